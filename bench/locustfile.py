"""The users of bench/load_test.py: students reading the leaderboard, listing and
uploading submissions over the API, and teachers browsing submissions in the
admin. Credentials come from the file named by PPIPE_LOAD_USERS (JSON)."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

from locust import HttpUser, between, task

USERS = json.loads(open(os.environ["PPIPE_LOAD_USERS"]).read())  # noqa: SIM115
SLUG = USERS["slug"]
TOKENS = itertools.cycle(USERS["tokens"])
ESTIMATOR = b"""from sklearn.dummy import DummyClassifier


def get_estimator():
    return DummyClassifier()
"""


class Student(HttpUser):
    weight = 9
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Token {next(TOKENS)}"

    @task(1)
    def baseline_challenge_description(self) -> None:
        self.client.get(f"/api/challenges/{SLUG}/", name="baseline: challenge description")

    @task(4)
    def leaderboard_json(self) -> None:
        self.client.get(f"/api/challenges/{SLUG}/leaderboard/", name="leaderboard JSON")

    @task(3)
    def my_submissions(self) -> None:
        self.client.get("/api/submissions/", name="my submissions (API)")

    @task(1)
    def submit(self) -> None:
        files: Any = {"file": ("estimator.py", ESTIMATOR, "text/x-python")}
        self.client.post(f"/api/challenges/{SLUG}/submissions/", files=files, name="submit (API)")


class Teacher(HttpUser):
    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        page = self.client.get("/admin/login/", name="admin login")
        self.client.post(
            "/admin/login/?next=/admin/",
            data={
                "username": USERS["teacher"],
                "password": USERS["password"],
                "csrfmiddlewaretoken": page.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{self.host}/admin/login/"},
            name="admin login",
        )

    @task(3)
    def submissions_changelist(self) -> None:
        self.client.get("/admin/judging/submission/", name="admin: submissions")

    @task(1)
    def leaderboard_page(self) -> None:
        self.client.get(f"/challenges/{SLUG}/leaderboard/", name="leaderboard page")
