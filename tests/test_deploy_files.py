"""deploy/ is checked as far as this machine can without a Docker engine or a
cluster: the compose file by docker-compose's own `config`, the Kubernetes
manifests against the 1.31 API schemas (strict), the KEDA objects against the
workers they scale, and the systemd units by `systemd-analyze verify`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.servers import patience
from worker_node.command import REMOTE_QUEUES

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
LONG_RUNNING = {
    "postgres",
    "redis",
    "web",
    "control",
    "beat",
    "dispatch",
    "judge",
    "probe",
    "flower",
}


def _compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    docker_compose = shutil.which("docker-compose")
    assert docker_compose, (
        "docker-compose is installed by `make setup` (ppipe_site/system_packages.py)"
    )
    return subprocess.run(
        [
            docker_compose,
            "-f",
            str(DEPLOY / "docker-compose.yml"),
            "--env-file",
            str(env_file),
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=60 * patience(),
    )


def test_the_compose_stack_is_valid_and_every_service_has_a_health_check() -> None:
    run = _compose_config(DEPLOY / ".env.example")
    assert run.returncode == 0, run.stderr
    services: dict[str, Any] = yaml.safe_load(run.stdout)["services"]

    assert set(services) == LONG_RUNNING | {"migrate"}
    assert all("healthcheck" in services[name] for name in LONG_RUNNING)
    for name in ("dispatch", "judge", "probe", "flower"):
        assert "DATABASE_URL" not in services[name]["environment"], name
    assert "change-me-broker@redis" in services["judge"]["environment"]["CELERY_BROKER_URL"]
    published = [port for s in services.values() for port in s.get("ports", [])]
    assert published
    assert all(str(port).startswith("127.0.0.1:") for port in published)  # behind a proxy


def test_the_compose_stack_refuses_to_start_without_passwords(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")

    run = _compose_config(empty)

    assert run.returncode != 0
    assert "set REDIS_PASSWORD" in run.stderr or "set POSTGRES_PASSWORD" in run.stderr


def _documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if doc]


def test_the_kubernetes_workers_validate_against_the_api_schemas() -> None:
    documents = _documents("workers.yaml")

    for document in documents:
        kubernetes_validate.validate(document, "1.31.0", strict=True)
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {f"ppipe-{q}" for q in REMOTE_QUEUES}
    for deployment in deployments:
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        sources = [next(iter(source.values()))["name"] for source in container["envFrom"]]
        assert "DATABASE_URL" not in yaml.safe_dump(deployment)
        assert sources == ["ppipe-worker", "ppipe-broker"]


def test_keda_scales_each_worker_on_the_length_of_its_own_queue() -> None:
    workers = {d["metadata"]["name"]: d for d in _documents("workers.yaml")}
    secret = workers["ppipe-broker"]["stringData"]
    scaling = _documents("keda.yaml")
    (auth,) = [d for d in scaling if d["kind"] == "TriggerAuthentication"]
    assert all(ref["key"] in secret for ref in auth["spec"]["secretTargetRef"])

    for scaled in (d for d in scaling if d["kind"] == "ScaledObject"):
        target = workers[scaled["spec"]["scaleTargetRef"]["name"]]
        command = target["spec"]["template"]["spec"]["containers"][0]["command"]
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "redis"
        assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
        assert command[command.index("--queues") + 1] == trigger["metadata"]["listName"]


def _unit_for_this_machine(tmp_path: Path, template: str, text: str, queue: str) -> Path:
    """The unit with its paths pointed at this checkout, as an install would."""
    worker = str(Path(sys.executable).parent / "ppipe-worker")
    (tmp_path / "worker.env").write_text("")
    unit = tmp_path / template
    unit.write_text(
        text.replace("/opt/ppipe/venv/bin/ppipe-worker", worker).replace(
            "/etc/ppipe/worker.env", str(tmp_path / "worker.env")
        )
    )
    instance = tmp_path / template.replace("@", f"@{queue}")
    instance.symlink_to(unit.name)
    return instance


@pytest.mark.parametrize("broken", [False, True])
@pytest.mark.parametrize(
    ("template", "queue"), [("ppipe-worker@.service", "probe"), ("ppipe-judge@.service", "judge")]
)
def test_the_systemd_units_verify(tmp_path: Path, template: str, queue: str, broken: bool) -> None:
    text = (DEPLOY / "systemd" / template).read_text()
    if broken:  # the check bites: a relative ExecStart is an error
        text = text.replace("ExecStart=/", "ExecStart=")
    instance = _unit_for_this_machine(tmp_path, template, text, queue)

    run = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(instance)],
        capture_output=True,
        text=True,
        timeout=60 * patience(),
    )

    assert (run.returncode != 0) is broken, run.stderr


def test_only_the_judge_runs_as_root_or_privileged() -> None:
    """The judge's sandbox needs root and a writable cgroup; nothing else may get them
    by a copied stanza."""
    run = _compose_config(DEPLOY / ".env.example")
    assert run.returncode == 0, run.stderr
    services: dict[str, Any] = yaml.safe_load(run.stdout)["services"]
    elevated = {
        name
        for name, service in services.items()
        if service.get("privileged")
        or service.get("cap_add")
        or service.get("security_opt")
        or str(service.get("user", "")).split(":")[0] in ("root", "0")
    }
    assert elevated == {"judge"}
    assert "\nUSER ppipe\n" in (DEPLOY / "Dockerfile").read_text()  # everyone else's user

    pods = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]
        for d in _documents("workers.yaml")
        if d["kind"] == "Deployment"
    }
    contexts = {name: pod["containers"][0]["securityContext"] for name, pod in pods.items()}
    judge = contexts.pop("ppipe-judge")
    assert judge["privileged"] is True
    assert judge["runAsUser"] == 0
    non_root = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 10001}
    assert contexts == dict.fromkeys(contexts, non_root)
    assert all("securityContext" not in pods[name] for name in contexts)
