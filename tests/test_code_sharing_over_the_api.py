"""The collaborative phase over the API: nobody reads another's code or scores
before the challenge's code sharing date, every participant reads every scored
submission after it, and a fork is an upload of the parent's code recording its
parent, within the same limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from challenges.models import Challenge, Participant
from foundation.content_store import artifact_store
from judging.models import JudgingRules, Submission, SubmissionState
from judging.services import submission_create, submission_fork
from teams.services import team_create, team_join
from tests.admin_forms import _split_datetime, form_errors, post_add_challenge
from tests.factories import ChallengeFactory, ParticipantFactory, SubmissionFactory, TeacherFactory
from tests.pipeline_kits import MODEL_PY, SCALE_PY, SCALE_THEN_MODEL, zip_of
from tests.submissions import LOGISTIC_REGRESSION, participants, published_challenge
from tests.test_api_challenges import challenge_fields, token_client
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db


def scored(
    participant: Participant, code: bytes = LOGISTIC_REGRESSION, **fields: Any
) -> Submission:
    """A scored submission whose code is in the artifact store."""
    shown = {
        "public_score": 0.9,
        "private_score": 0.8,
        "cv_mean": 0.91,
        "cpu_seconds": 1.5,
        "stdout_tail": "ada's own prints",
    }
    return SubmissionFactory(
        participant=participant,
        code_sha256=artifact_store().put_bytes(code),
        code_bytes=len(code),
        state=SubmissionState.SCORED,
        **{**shown, **fields},
    )


def share_code(challenge: Challenge, *, hours_from_now: float) -> None:
    JudgingRules.objects.filter(challenge=challenge).update(
        code_sharing_at=timezone.now() + timedelta(hours=hours_from_now)
    )


def test_nothing_of_anothers_submission_is_readable_before_the_date_and_all_after() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    theirs = scored(ada)
    share_code(challenge, hours_from_now=1)
    client = token_client(grace.user)

    for path in ("", "code/"):
        assert client.get(f"/api/submissions/{theirs.pk}/{path}").status_code == 404
    assert client.get(f"/api/challenges/{challenge.slug}/shared/").status_code == 403
    assert client.post(f"/api/submissions/{theirs.pk}/fork/").status_code == 404

    share_code(challenge, hours_from_now=-1)
    detail = client.get(f"/api/submissions/{theirs.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert body["public_score"] == 0.9
    assert body["cpu_seconds"] == 1.5
    assert body["private_score"] is None  # still only after the close
    assert "stdout_tail" not in body  # scores and costs, not their logs
    code = client.get(f"/api/submissions/{theirs.pk}/code/").json()
    assert code["code"] == LOGISTIC_REGRESSION.decode()
    listed = client.get(f"/api/challenges/{challenge.slug}/shared/").json()
    assert [(row["id"], row["author"]) for row in listed] == [(theirs.pk, ada.user.username)]
    # Shared is not theirs: no cancelling another's work.
    assert client.post(f"/api/submissions/{theirs.pk}/cancel/").status_code == 404


def test_a_challenge_without_a_date_never_shares() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    theirs = scored(ada)
    client = token_client(grace.user)
    assert client.get(f"/api/submissions/{theirs.pk}/code/").status_code == 404
    assert (
        "does not share" in client.get(f"/api/challenges/{challenge.slug}/shared/").json()["detail"]
    )


def test_only_participants_of_the_challenge_and_only_scored_submissions_are_shared() -> None:
    challenge = published_challenge()
    other = published_challenge()
    ada, grace = participants(challenge, 2)
    (outsider,) = participants(other, 1)
    theirs = scored(ada)
    running = SubmissionFactory(participant=ada, state=SubmissionState.RUNNING)
    share_code(challenge, hours_from_now=-1)

    assert token_client(outsider.user).get(f"/api/submissions/{theirs.pk}/code/").status_code == 404
    client = token_client(grace.user)
    assert client.get(f"/api/submissions/{running.pk}/code/").status_code == 404
    assert client.post(f"/api/submissions/{running.pk}/fork/").status_code == 404


def test_a_fork_records_its_parent_and_reuses_the_stored_code() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    parent = scored(ada)
    share_code(challenge, hours_from_now=-1)

    response = token_client(grace.user).post(f"/api/submissions/{parent.pk}/fork/")

    assert response.status_code == 201, response.json()
    fork = Submission.objects.get(pk=response.json()["id"])
    assert (fork.parent, fork.participant, fork.state) == (parent, grace, SubmissionState.NEW)
    assert fork.code_sha256 == parent.code_sha256
    assert fork.filename == parent.filename
    detail = token_client(grace.user).get(f"/api/submissions/{fork.pk}/").json()
    assert (detail["parent"], detail["parent_author"]) == (parent.pk, ada.user.username)


def test_a_fork_is_refused_saying_why() -> None:
    challenge = published_challenge(submissions_per_day=1)
    ada, grace = participants(challenge, 2)
    mine = scored(grace)
    failed = SubmissionFactory(participant=grace, state=SubmissionState.FAILED)
    client = token_client(grace.user)

    # One's own, before the date: readable, so told why.
    share_code(challenge, hours_from_now=2)
    early = client.post(f"/api/submissions/{mine.pk}/fork/")
    assert early.status_code == 409
    assert "shares its code from" in early.json()["detail"]

    share_code(challenge, hours_from_now=-1)
    not_scored = client.post(f"/api/submissions/{failed.pk}/fork/")
    assert not_scored.status_code == 409
    assert "only a scored submission" in not_scored.json()["detail"]
    # The daily limit counts forks as uploads: `mine` used the day's one.
    over = client.post(f"/api/submissions/{scored(ada).pk}/fork/")
    assert over.status_code == 400
    assert "submissions of the last 24 hours" in over.json()["detail"]
    assert not Submission.objects.filter(parent__isnull=False).exists()


def test_a_closed_challenge_takes_no_fork() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    parent = scored(ada)
    share_code(challenge, hours_from_now=-1)
    Challenge.objects.filter(pk=challenge.pk).update(closes_at=timezone.now())
    response = token_client(grace.user).post(f"/api/submissions/{parent.pk}/fork/")
    assert response.status_code == 400
    assert "closed at" in response.json()["detail"]
    # After the close the private scores are shared too, as the leaderboard shows them.
    shared = token_client(grace.user).get(f"/api/submissions/{parent.pk}/").json()
    assert shared["private_score"] == 0.8


def test_a_fork_stays_in_its_parents_challenge() -> None:
    challenge = published_challenge()
    other = published_challenge()
    (ada,) = participants(challenge, 1)
    grace_elsewhere = ParticipantFactory(challenge=other)
    ParticipantFactory(challenge=challenge, user=grace_elsewhere.user)
    parent = scored(ada)
    share_code(challenge, hours_from_now=-1)
    share_code(other, hours_from_now=-1)
    with pytest.raises(SubmissionRejected, match="builds only on another of its own challenge"):
        submission_fork(participant=grace_elsewhere, parent=parent)

    client = token_client(grace_elsewhere.user)
    # An upload to the other challenge naming it as its parent: refused.
    file = SimpleUploadedFile("estimator.py", LOGISTIC_REGRESSION, "text/x-python")
    across = client.post(
        f"/api/challenges/{other.slug}/submissions/",
        {"file": file, "parent": parent.pk},
        format="multipart",
    )
    assert across.status_code == 400
    assert "builds only on another of its own challenge" in across.json()["errors"]["parent"][0]
    # A fork goes to the parent's challenge, as the caller's participant there.
    response = client.post(f"/api/submissions/{parent.pk}/fork/")
    assert Submission.objects.get(pk=response.json()["id"]).challenge_id == challenge.pk


def test_an_upload_names_its_parent_once_shared() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    parent = scored(ada)
    client = token_client(grace.user)

    def upload(parent_id: object) -> Any:
        changed = LOGISTIC_REGRESSION + b"# tuned\n"
        file = SimpleUploadedFile("estimator.py", changed, "text/x-python")
        return client.post(
            f"/api/challenges/{challenge.slug}/submissions/",
            {"file": file, "parent": parent_id},
            format="multipart",
        )

    share_code(challenge, hours_from_now=1)
    refused = upload(parent.pk)
    assert refused.status_code == 400
    assert refused.json()["errors"]["parent"] == [
        f"No submission {parent.pk} that you can build on."
    ]
    share_code(challenge, hours_from_now=-1)
    for hostile in ("9" * 30, "-1", "1 OR 1=1"):
        assert upload(hostile).status_code == 400
    accepted = upload(parent.pk)
    assert accepted.status_code == 201, accepted.json()
    assert Submission.objects.get(pk=accepted.json()["id"]).parent == parent


def test_the_sharing_date_must_come_after_the_open_date() -> None:
    client = token_client(TeacherFactory())
    fields = challenge_fields()
    fields["code_sharing_at"] = fields["opens_at"]
    response = client.post("/api/challenges/", fields, format="multipart")
    assert response.status_code == 400
    assert "must be after the open date" in response.json()["errors"]["code_sharing_at"][0]
    assert not Challenge.objects.exists()

    later = timezone.now() + timedelta(days=7)
    response = client.post(
        "/api/challenges/", challenge_fields(code_sharing_at=later.isoformat()), format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["code_sharing_at"] is not None
    assert Challenge.objects.get().judging_rules.code_sharing_at == later


def test_students_have_no_admin_to_read_code_in() -> None:
    challenge = ChallengeFactory()
    ada = ParticipantFactory(challenge=challenge)
    theirs = scored(ada)
    client = Client()
    client.force_login(ParticipantFactory(challenge=challenge).user)
    response = client.get(f"/admin/judging/submission/{theirs.pk}/change/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_refuses_a_sharing_date_before_the_open_date(teacher_client: Client) -> None:
    opens = timezone.now() + timedelta(days=2)

    def add(sharing_at: Any) -> Any:
        day, time = _split_datetime(sharing_at)
        fields = {
            "judging_rules-0-code_sharing_at_0": day,
            "judging_rules-0-code_sharing_at_1": time,
        }
        return post_add_challenge(teacher_client, opens_at=opens, **fields)

    refused = add(opens - timedelta(days=1))
    assert "must be after the open date" in form_errors(refused)["code_sharing_at"][0]
    assert not Challenge.objects.exists()
    assert add(opens + timedelta(days=7)).status_code == 302
    assert Challenge.objects.get().judging_rules.code_sharing_at is not None


def test_the_admin_shows_a_forks_parent_read_only() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    parent = scored(ada)
    fork = SubmissionFactory(participant=grace, parent=parent)
    SubmissionFactory(participant=ParticipantFactory(), filename="elsewhere.py")
    client = Client()
    client.force_login(challenge.owner)
    page = client.get(f"/admin/judging/submission/{fork.pk}/change/").content.decode()
    assert 'name="parent"' not in page
    assert f"#{parent.pk} estimator.py by {ada.user.username}" in page
    assert "elsewhere.py" not in page


def test_a_fork_of_a_pipeline_runs_the_configuration_its_parent_ran() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    content = zip_of(SCALE_THEN_MODEL, {"scale.py": SCALE_PY, "model.py": MODEL_PY})
    parent = submission_create(
        participant=ada,
        filename="pipeline.zip",
        content=content,
        configuration={"model": "logistic"},
        wake_feeder=False,
    )
    Submission.objects.filter(pk=parent.pk).update(state=SubmissionState.SCORED)
    parent.refresh_from_db()
    share_code(challenge, hours_from_now=-1)

    # Read again, as a request would: the date moved since the rows above were read.
    fork = submission_fork(participant=Participant.objects.get(pk=grace.pk), parent=parent)

    assert (fork.kind, fork.filename, fork.sweep) == ("pipeline", "pipeline.zip", False)
    assert fork.plans == parent.plans
    assert fork.plans[0]["configuration"] == {"model": "logistic"}


def test_one_may_build_on_ones_own_or_a_team_mates_submission() -> None:
    challenge = published_challenge(team_size=2)
    ada, grace = participants(challenge, 2)
    team = team_create(participant=ada, name="owls")
    team_join(participant=grace, code=team.join_code)
    mine, my_team_mates = scored(grace), scored(ada)
    share_code(challenge, hours_from_now=-1)
    client = token_client(grace.user)
    for parent in (mine, my_team_mates):
        response = client.post(f"/api/submissions/{parent.pk}/fork/")
        assert response.status_code == 201, response.json()
        assert Submission.objects.get(pk=response.json()["id"]).parent == parent
