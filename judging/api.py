"""Submissions and leaderboards over the API.

A student reads only their own submissions (another's is a 404, not a 403: its
existence is not theirs to know) until the challenge's code sharing date, and
from then every scored one of the challenge, without its logs (judging/sharing.py);
a teacher reads their challenges'. Private scores appear once the challenge has
closed.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.api import caller_participant, visible_challenge
from foundation.throttles import DOWNLOADS, FORKS, LEADERBOARD, POLLS, SHARED_CODE, too_many
from judging.leaderboard import SORTABLE, leaderboard_cached, leaderboard_rendered, valid_order
from judging.models import ConfigurationResult, Reproduction, Submission
from judging.picks import submission_select, submission_unselect
from judging.reproduction import (
    ReproductionQuotaExceeded,
    ReproductionRefused,
    reproduction_readable_by,
    reproduction_request,
    worker_node,
)
from judging.selectors import (
    private_scores_visible,
    submission_code,
    submission_readable_by,
    submissions_of,
)
from judging.services import (
    submission_cancel,
    submission_fork,
    submission_upload,
)
from judging.sharing import (
    author_of,
    code_shared,
    code_sharing_at,
    fork_credit,
    shared_submissions,
    submission_open_to,
)
from judging.sweep_charts import configuration_cost, least_cost_meeting_slas
from judging.tasks import revoke_judge_task
from worker_wing.pipeline.code_check import SubmissionRejected


class SubmissionSummarySerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    challenge = serializers.CharField(source="challenge.slug")
    filename = serializers.CharField()
    state = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    public_score = serializers.FloatField(allow_null=True)
    cpu_seconds = serializers.FloatField(allow_null=True)
    peak_memory_mb = serializers.FloatField(allow_null=True)
    selected = serializers.BooleanField(
        help_text="One of its author's picks for the final ranking (at most the "
        "challenge's final_selections)."
    )
    promoted = serializers.BooleanField(
        help_text="Promoted by the teacher: counts in the final ranking beyond the picks."
    )
    # DRF's metaclass takes declared fields off the class: this `parent` does not
    # hide Field.parent, whatever the stubs say.
    parent = serializers.IntegerField(  # type: ignore[assignment]
        source="parent_id",
        allow_null=True,
        help_text="The shared submission this one was built from (a fork, or an upload "
        "naming it); null for one's own work.",
    )


class FoldSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    score = serializers.FloatField()
    fit_seconds = serializers.FloatField()
    predict_seconds = serializers.FloatField()
    cpu_seconds = serializers.FloatField()
    peak_memory_mb = serializers.FloatField()


class StepResultSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    target = serializers.CharField(help_text="file.py:callable that ran for this step.")
    level = serializers.IntegerField(help_text="Steps of one level ran concurrently.")
    fit_seconds = serializers.FloatField(
        help_text="Fitting (and transforming the training rows), summed over folds."
    )
    cpu_seconds = serializers.FloatField(
        help_text="CPU time of the step's thread, summed over folds."
    )
    peak_memory_mb = serializers.FloatField()
    latency_p50_ms = serializers.FloatField(help_text="Per inference batch.")
    latency_p95_ms = serializers.FloatField(help_text="Per inference batch.")
    sla_met = serializers.BooleanField(allow_null=True, help_text="Null: no per-step SLA.")


class ConfigurationResultSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    configuration = serializers.DictField(child=serializers.CharField())
    chosen = serializers.BooleanField(help_text="The sweep's best by cross-validation score.")
    cv_mean = serializers.FloatField()
    cv_std = serializers.FloatField()
    fit_seconds = serializers.FloatField()
    cpu_seconds = serializers.FloatField()
    peak_memory_mb = serializers.FloatField()
    latency_p50_ms = serializers.FloatField(help_text="End to end, per inference batch.")
    latency_p95_ms = serializers.FloatField(help_text="End to end, per inference batch.")
    batches = serializers.IntegerField()
    sla_met = serializers.BooleanField(
        allow_null=True, help_text="Null: the challenge sets no SLA."
    )
    cores = serializers.IntegerField(
        allow_null=True,
        help_text="CPU cores the configuration's sandbox was granted (its cgroup confined to "
        "them, its maths libraries' threads set to match); null: not confined.",
    )
    batch_size = serializers.IntegerField(
        allow_null=True, help_text="Rows per timed inference batch (0: all); null: older run."
    )
    throughput_rows_per_second = serializers.FloatField(
        allow_null=True, help_text="Rows predicted per second of prediction, over the folds."
    )
    wall_seconds = serializers.FloatField(
        allow_null=True, help_text="Wall time of the configuration's folds."
    )
    cost_core_seconds_per_1000_rows = serializers.SerializerMethodField(
        help_text="cores x 1000 / throughput; null without cores or throughput."
    )
    steps = StepResultSerializer(many=True)

    def get_cost_core_seconds_per_1000_rows(self, row: ConfigurationResult) -> float | None:
        return configuration_cost(row)


class NotRunSerializer(serializers.Serializer[Any]):
    configuration = serializers.DictField(child=serializers.CharField())
    cores = serializers.IntegerField(allow_null=True)
    batch_size = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(help_text="Why the judge worker did not run it.")


class EventSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField()
    state = serializers.CharField()
    attempt = serializers.IntegerField()
    message = serializers.CharField()


class LineageFields(serializers.Serializer[Any]):
    """Who a submission was built on, and what it credits them."""

    parent_author = serializers.SerializerMethodField(
        help_text="Who made the parent submission (empty without one)."
    )
    contributivity = serializers.FloatField(
        allow_null=True,
        help_text="Its share, in percent, of the challenge's greedy ensemble (RAMP's "
        "contributivity); null until computed or when it was not blended.",
    )
    credit_to_parent = serializers.SerializerMethodField(
        help_text="The share of its contributivity credited to its parent's author (half, "
        "when it improves the ensemble and the parent is another team's or student's); "
        "a figure shown, taken from nobody."
    )

    def get_parent_author(self, submission: Submission) -> str:
        return author_of(submission.parent) if submission.parent is not None else ""

    def get_credit_to_parent(self, submission: Submission) -> float | None:
        return fork_credit(submission)


class SharedSubmissionSerializer(LineageFields):
    """Another participant's scored submission, from the challenge's code sharing date:
    its code, scores and costs, never its logs or timeline."""

    id = serializers.IntegerField()
    challenge = serializers.CharField(source="challenge.slug")
    author = serializers.SerializerMethodField(help_text="The student (and their team).")
    filename = serializers.CharField()
    kind = serializers.CharField(help_text="estimator or pipeline.")
    state = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    parent = serializers.IntegerField(  # type: ignore[assignment]  # as above
        source="parent_id", allow_null=True
    )
    public_score = serializers.FloatField(allow_null=True)
    private_score = serializers.SerializerMethodField(help_text="Null until the challenge closes.")
    cv_mean = serializers.FloatField(allow_null=True)
    cv_std = serializers.FloatField(allow_null=True)
    cpu_seconds = serializers.FloatField(allow_null=True)
    peak_memory_mb = serializers.FloatField(allow_null=True)
    fit_seconds = serializers.FloatField(allow_null=True)

    def get_author(self, submission: Submission) -> str:
        return author_of(submission)

    def get_private_score(self, submission: Submission) -> float | None:
        return submission.private_score if private_scores_visible(submission) else None


class SharedSubmissionDetailSerializer(SharedSubmissionSerializer):
    folds = FoldSerializer(many=True)


class SubmissionSerializer(LineageFields, SubmissionSummarySerializer):
    queued_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()
    run_status = serializers.CharField(
        help_text="Which run this is and whether it will run again: a run is repeated only "
        "when the platform failed it, never for an error in the code."
    )
    private_score = serializers.SerializerMethodField(help_text="Null until the challenge closes.")
    cv_mean = serializers.FloatField(allow_null=True)
    cv_std = serializers.FloatField(allow_null=True)
    fit_seconds = serializers.FloatField(allow_null=True)
    wall_seconds = serializers.FloatField(allow_null=True)
    folds = FoldSerializer(many=True)
    kind = serializers.CharField(help_text="estimator or pipeline.")
    pipeline = serializers.JSONField(help_text="A pipeline's steps, as checked at upload.")
    sweep = serializers.BooleanField()
    configurations = ConfigurationResultSerializer(many=True)
    sweep_not_run = NotRunSerializer(
        many=True, help_text="A resource sweep's configurations the judge worker did not run."
    )
    least_cost_configuration = serializers.SerializerMethodField(
        help_text="Index of the configuration meeting the SLAs at the least cost; null: none."
    )
    provenance = serializers.JSONField(
        help_text="Digests of the code, data and challenge configuration, seed, worker, "
        "Python and package versions (with the installed set), start and end."
    )
    artifacts = serializers.DictField(
        child=serializers.CharField(), help_text="sha256 of the run's stored artifacts."
    )
    artifacts_removed = serializers.SerializerMethodField(
        help_text="Set when the challenge's retention policy removed the run's artifacts "
        "(`artifacts` is then empty): when and why. Scores, code and events are kept."
    )
    stdout_tail = serializers.CharField()
    stderr_tail = serializers.CharField()
    events = EventSerializer(many=True)

    def get_private_score(self, submission: Submission) -> float | None:
        return submission.private_score if private_scores_visible(submission) else None

    @extend_schema_field(
        inline_serializer(
            "ArtifactsRemoved",
            {"at": serializers.DateTimeField(), "reason": serializers.CharField()},
            allow_null=True,
        )
    )
    def get_artifacts_removed(self, submission: Submission) -> dict[str, Any] | None:
        # Recorded by the retention app (retention/models.py CollectedRun), a layer
        # above judging: read through the reverse accessor, so judging imports none of it.
        collected = getattr(submission, "artifacts_collection", None)
        if collected is None or submission.artifacts:  # judged again since: new artifacts
            return None
        return {"at": collected.collected_at, "reason": collected.reason}

    def get_least_cost_configuration(self, submission: Submission) -> int | None:
        pick = least_cost_meeting_slas(list(submission.configurations.all()))
        return None if pick is None else pick.index


def _readable(request: Request, submission_id: int) -> Submission:
    submission = submission_readable_by(request.user, submission_id)
    if submission is None:
        raise exceptions.NotFound(f"No submission {submission_id} of yours.")
    return submission


def _own_or_shared(request: Request, submission_id: int) -> tuple[Submission, bool]:
    """A submission the caller may read whole (their own, or as its teacher), or
    another's scored one shared with them from its challenge's code sharing date
    (False); 404 otherwise, the same whether it exists or not."""
    found = submission_open_to(request.user, submission_id)
    if found is None:
        raise exceptions.NotFound(f"No submission {submission_id} of yours.")
    return found


def _own(request: Request, submission_id: int) -> Submission:
    submission = submissions_of(request.user).filter(pk=submission_id).first()
    if submission is None:
        raise exceptions.NotFound(f"No submission {submission_id} of yours.")
    return submission


def _parent(request: Request, text: str) -> Submission | None:
    """The `parent` an upload names: a submission the caller may read."""
    if not text:
        return None
    refused = exceptions.ValidationError(
        {"parent": [f"No submission {text[:20]} that you can build on."]}
    )
    found = submission_open_to(request.user, int(text)) if text.isdigit() else None
    if found is None:
        raise refused
    return found[0]


class SubmissionCreateView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Submit an estimator.py or a pipeline zip",
        request={
            "multipart/form-data": inline_serializer(
                "SubmissionUpload",
                {
                    "file": serializers.FileField(
                        help_text="estimator.py, or a zip with pipeline.yaml and its files."
                    ),
                    "configuration": serializers.CharField(
                        required=False,
                        help_text="A pipeline's alternatives to run, e.g. model=forest "
                        "(default: the first of each).",
                    ),
                    "sweep": serializers.BooleanField(
                        required=False, help_text="Run every configuration (up to the cap)."
                    ),
                    "parent": serializers.IntegerField(
                        required=False,
                        help_text="From the code sharing date: the id of the shared "
                        "submission this code was built from (its lineage and credit).",
                    ),
                    "sweep_cores": serializers.CharField(
                        required=False,
                        help_text="With sweep, where the challenge offers core counts: those "
                        "to run on, e.g. 1, 2 (default: all it offers).",
                    ),
                    "sweep_batch_sizes": serializers.CharField(
                        required=False,
                        help_text="With sweep, where the challenge offers batch sizes: those "
                        "to time, e.g. 1, 256 (default: all it offers).",
                    ),
                },
            )
        },
        responses={
            201: inline_serializer(
                "SubmissionCreated",
                {"id": serializers.IntegerField(), "state": serializers.CharField()},
            )
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        challenge = visible_challenge(request, slug, or_joinable=True)
        participant = caller_participant(request, challenge)
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": ["Attach your estimator.py as `file`."]})
        parent = _parent(request, str(request.data.get("parent") or ""))
        try:
            submission = submission_upload(
                participant=participant,
                upload=upload,
                configuration=str(request.data.get("configuration") or ""),
                sweep=str(request.data.get("sweep") or "").lower() in ("1", "true", "on", "yes"),
                parent=parent,
                sweep_cores=str(request.data.get("sweep_cores") or ""),
                sweep_batch_sizes=str(request.data.get("sweep_batch_sizes") or ""),
            )
        except SubmissionRejected as error:
            raise exceptions.ValidationError({error.field: [str(error)]}) from None
        return Response(
            {"id": submission.pk, "state": submission.state}, status=status.HTTP_201_CREATED
        )


class SubmissionListView(APIView):
    throttle_scope = POLLS

    @extend_schema(
        summary="Your submissions, newest first",
        parameters=[
            OpenApiParameter("challenge", str, description="Only this challenge's (slug).")
        ],
        responses=SubmissionSummarySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        submissions = submissions_of(request.user)
        if slug := request.query_params.get("challenge"):
            submissions = submissions.filter(challenge__slug=slug)
        return Response(SubmissionSummarySerializer(submissions[:500], many=True).data)


class SubmissionDetailView(APIView):
    throttle_scope = POLLS

    @extend_schema(
        summary="A submission: state, reason, scores, folds, cost, logs",
        description="Your own submission (or, for its teacher, any of the challenge's) "
        "whole. From the challenge's code sharing date, another participant's scored "
        "submission too: its scores, costs, folds and lineage, not its logs (the "
        "SharedSubmissionDetail shape). Anything else is a 404.",
        responses=PolymorphicProxySerializer(
            component_name="SubmissionOrShared",
            serializers=[SubmissionSerializer, SharedSubmissionDetailSerializer],
            resource_type_field_name=None,
        ),
    )
    def get(self, request: Request, submission_id: int) -> Response:
        submission, whole = _own_or_shared(request, submission_id)
        if whole:
            return Response(SubmissionSerializer(submission).data)
        return Response(SharedSubmissionDetailSerializer(submission).data)


class SubmissionCodeView(APIView):
    throttle_scope = DOWNLOADS

    @extend_schema(
        summary="The submitted code",
        description="Your own submission's; from the challenge's code sharing date, any "
        "scored submission's of a challenge you take part in. Otherwise a 404.",
        responses=inline_serializer(
            "SubmissionCode", {"filename": serializers.CharField(), "code": serializers.CharField()}
        ),
    )
    def get(self, request: Request, submission_id: int) -> Response:
        submission, _ = _own_or_shared(request, submission_id)
        return Response({"filename": submission.filename, "code": submission_code(submission)})


class SubmissionForkView(APIView):
    throttle_scope = FORKS

    @extend_schema(
        request=None,
        summary="Build on this submission: judge its code again as yours",
        description="From the challenge's code sharing date, any scored submission of a "
        "challenge you take part in (yours, a team-mate's or another's) can be the start "
        "of a new submission of yours: its code (the same file or zip, not uploaded "
        "again) and configuration, recording it as the parent. It is an upload like any "
        "other: the challenge must be open, your daily limit counts it and the code is "
        "checked. A submission you may not read is a 404; one not scored yet, or before "
        "the sharing date, a 409 saying why; the daily limit or a closed challenge a 400.",
        responses={
            201: inline_serializer(
                "SubmissionForked",
                {
                    "id": serializers.IntegerField(),
                    "state": serializers.CharField(),
                    "parent": serializers.IntegerField(),
                },
            ),
            404: OpenApiResponse(description="No such submission that you may read."),
            409: OpenApiResponse(
                description="Not scored, or the challenge does not share its code (yet)."
            ),
        },
    )
    def post(self, request: Request, submission_id: int) -> Response:
        parent, _ = _own_or_shared(request, submission_id)
        participant = caller_participant(request, parent.challenge)
        try:
            submission = submission_fork(participant=participant, parent=parent)
        except SubmissionRejected as error:
            message = str(error)
            if error.field == "parent":
                return Response(
                    {"detail": message, "errors": {error.field: [message]}},
                    status=status.HTTP_409_CONFLICT,
                )
            raise exceptions.ValidationError({error.field: [message]}) from None
        return Response(
            {"id": submission.pk, "state": submission.state, "parent": parent.pk},
            status=status.HTTP_201_CREATED,
        )


class SharedSubmissionsView(APIView):
    throttle_scope = SHARED_CODE

    @extend_schema(
        summary="A challenge's shared submissions (from its code sharing date)",
        description="The challenge's scored submissions, best public score first (at most "
        "1000), "
        "with its author, scores (private ones after the close), costs, contributivity "
        "and lineage; read each one's code at /api/submissions/{id}/code/. Before the "
        "code sharing date (or without one): 403 saying when.",
        responses={
            200: SharedSubmissionSerializer(many=True),
            403: OpenApiResponse(description="The challenge does not share its code (yet)."),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        challenge = visible_challenge(request, slug)
        if not code_shared(challenge):
            at = code_sharing_at(challenge)
            raise exceptions.PermissionDenied(
                f"'{challenge.slug}' shares its code from {at:%Y-%m-%d %H:%M %Z}."
                if at
                else f"'{challenge.slug}' does not share its submissions' code."
            )
        rows = shared_submissions(challenge)[:1000]
        return Response(SharedSubmissionSerializer(rows, many=True).data)


class SubmissionCancelView(APIView):
    @extend_schema(
        request=None,
        summary="Cancel: a running job stops within seconds",
        responses=SubmissionSummarySerializer,
    )
    def post(self, request: Request, submission_id: int) -> Response:
        submission = _readable(request, submission_id)
        by = "its author" if submission.participant.user_id == request.user.pk else "the teacher"
        if not submission_cancel(submission=submission, revoke=revoke_judge_task, by=by):
            raise exceptions.ValidationError(
                {"state": [f"Submission {submission.pk} has already ended ({submission.state})."]}
            )
        submission.refresh_from_db()
        return Response(SubmissionSummarySerializer(submission).data)


class SubmissionSelectView(APIView):
    @extend_schema(
        request=None,
        summary="Pick this submission for the final ranking",
        description="Adds a scored submission to your picks: at most the challenge's "
        "`final_selections`, until the close. Over the limit, a 400 names your picks; "
        "unselect one first. The final ranking counts your best pick (by private score), "
        "or with none your best public score.",
        responses=SubmissionSummarySerializer,
    )
    def post(self, request: Request, submission_id: int) -> Response:
        submission = _own(request, submission_id)
        try:
            submission_select(submission=submission)
        except SubmissionRejected as error:
            raise exceptions.ValidationError({error.field: [str(error)]}) from None
        submission.refresh_from_db()
        return Response(SubmissionSummarySerializer(submission).data)


class SubmissionUnselectView(APIView):
    @extend_schema(
        request=None,
        summary="Take this submission out of your picks for the final ranking",
        description="Frees a pick (until the close). Unselecting a submission that is not "
        "picked changes nothing.",
        responses=SubmissionSummarySerializer,
    )
    def post(self, request: Request, submission_id: int) -> Response:
        submission = _own(request, submission_id)
        try:
            submission_unselect(submission=submission)
        except SubmissionRejected as error:
            raise exceptions.ValidationError({error.field: [str(error)]}) from None
        submission.refresh_from_db()
        return Response(SubmissionSummarySerializer(submission).data)


class LeaderboardRowSerializer(serializers.Serializer[Any]):
    rank = serializers.IntegerField(allow_null=True)
    participant = serializers.CharField()
    submission_id = serializers.IntegerField(allow_null=True)
    selected = serializers.BooleanField()
    public_score = serializers.FloatField(allow_null=True)
    private_score = serializers.FloatField(allow_null=True)
    cv_mean = serializers.FloatField(allow_null=True)
    cv_std = serializers.FloatField(allow_null=True)
    cpu_seconds = serializers.FloatField(allow_null=True)
    peak_memory_mb = serializers.FloatField(allow_null=True)
    fit_seconds = serializers.FloatField(allow_null=True)
    submissions = serializers.IntegerField()
    last_submission_at = serializers.DateTimeField(allow_null=True)
    endpoint_registered = serializers.BooleanField()
    endpoint_uptime = serializers.FloatField(
        allow_null=True, help_text="Share of probes answered with a 2xx status, from 0 to 1."
    )
    endpoint_p95_ms = serializers.FloatField(allow_null=True)
    endpoint_sla = serializers.FloatField(
        allow_null=True,
        help_text="Share of probes with valid predictions within the SLA, from 0 to 1.",
    )
    endpoint_score = serializers.FloatField(
        allow_null=True,
        help_text="The published live score: the challenge's metric over many probed rows, "
        "at fixed times, rounded to a step (null until the first publication).",
    )
    endpoint_releases_behind = serializers.IntegerField(
        allow_null=True, help_text="Releases delivered since the one the model was trained on."
    )
    receipt_score = serializers.FloatField(
        allow_null=True,
        help_text="Proof of receipt: correct answers count 1, partial 1/2, over the questions "
        "judged or missed.",
    )
    promoted = serializers.BooleanField(
        help_text="The submission shown was promoted by the teacher."
    )
    picks = serializers.IntegerField(
        help_text="Scored submissions the participant selected or the teacher promoted; "
        "the best of them represents the participant (none: the best public score)."
    )
    contributivity = serializers.FloatField(
        allow_null=True,
        help_text="The shown submission's share, in percent, of the greedy ensemble of the "
        "challenge's submissions on the validation folds (RAMP's contributivity; they sum to "
        "100); null until computed or when it was not among the blended submissions.",
    )
    team = serializers.CharField(
        help_text="A team's row: its name (`participant` names it with its members); "
        "empty for a student alone."
    )
    members = serializers.ListField(
        child=serializers.CharField(),
        help_text="The usernames the row stands for: a team's members, or the student alone.",
    )
    built_on = serializers.IntegerField(
        allow_null=True,
        help_text="From the code sharing date: the shared submission the shown one was "
        "built on (null: none, or before the date).",
    )
    built_on_author = serializers.CharField(help_text="Who made that submission.")
    fork_credit = serializers.FloatField(
        allow_null=True,
        help_text="From the code sharing date: the contributivity credited to the row's "
        "people by others' submissions built on theirs (half of each one's positive "
        "contributivity); a figure shown, taken from nobody.",
    )


JSON = "application/json"


class LeaderboardView(APIView):
    throttle_scope = LEADERBOARD

    @extend_schema(
        summary="The leaderboard: one row per team or participant alone",
        parameters=[OpenApiParameter("order", str, enum=[*SORTABLE, *(f"-{c}" for c in SORTABLE)])],
        responses=inline_serializer(
            "Leaderboard",
            {"final": serializers.BooleanField(), "rows": LeaderboardRowSerializer(many=True)},
        ),
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        challenge = visible_challenge(request, slug)
        order = request.query_params.get("order", "rank")
        board = leaderboard_cached(challenge, order=order)

        # Rows are plain values already: no serializer pass (LeaderboardRowSerializer
        # documents them in the schema).
        def data() -> dict[str, Any]:
            return {"final": board.final, "rows": [row.as_dict() for row in board.rows]}

        if (
            request.accepted_media_type != JSON
            or type(request.accepted_renderer) is not JSONRenderer
        ):
            return Response(data())  # the browsable API, an indent asked for
        # The JSON text of this version and order, encoded once per web process (300
        # rows are about 190 kB, as long to encode as the rest of the request).
        body = leaderboard_rendered(
            f"ppipe:leaderboard-json:{challenge.pk}:{board.version}:{valid_order(order)}",
            lambda: JSONRenderer().render(data()),
        )
        return HttpResponse(body, content_type=JSON)


class ReproductionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    submission = serializers.IntegerField(source="submission_id")
    state = serializers.CharField(help_text="queued, running, matched, differed or failed.")
    original_worker = serializers.CharField(help_text="The judge worker of the original run.")
    worker = serializers.CharField(help_text="The judge worker that ran the reproduction.")
    same_worker = serializers.SerializerMethodField(
        help_text="It ran on the original's worker (none other was alive); null until it ran."
    )
    tolerance = serializers.FloatField(help_text="The challenge's tolerance for a match.")
    scores = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField(allow_null=True)),
        help_text="Each compared score (fold_0, …, cv_mean, public_score) as "
        '{"original": x, "reproduced": y}.',
    )
    max_difference = serializers.FloatField(
        allow_null=True, help_text="The largest absolute difference between the two runs."
    )
    reason = serializers.CharField(
        help_text="Why it failed, or where it ran when no other judge worker was alive."
    )
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_same_worker(self, reproduction: Reproduction) -> bool | None:
        if not reproduction.worker:
            return None
        return worker_node(reproduction.worker) == worker_node(reproduction.original_worker)


class SubmissionReproduceView(APIView):
    @extend_schema(
        request=None,
        summary="Reproduce: judge a scored run again on another worker",
        description="Runs the submission's recorded judge job again, on a live judge worker "
        "other than the original's when there is one, and compares the fold scores, the "
        "cross-validation mean and the public score with the original's within the "
        "challenge's `reproduce_tolerance`. The submission itself is left as judged. "
        "Follow the result at /api/reproductions/{id}/. A submission that is not scored "
        "is refused with 409. Its author may ask for as many reproductions in 24 hours "
        "as the challenge allows submissions; past that, 429 with `Retry-After`.",
        responses={
            202: inline_serializer(
                "ReproductionRequested",
                {"id": serializers.IntegerField(), "state": serializers.CharField()},
            ),
            429: OpenApiResponse(
                description="The daily quota of reproductions is used: `Retry-After` "
                "and the message say when the next is possible."
            ),
        },
    )
    def post(self, request: Request, submission_id: int) -> Response:
        submission = _readable(request, submission_id)
        user = request.user.get_username()
        by = user if submission.participant.user_id == request.user.pk else f"the teacher ({user})"
        try:
            reproduction = reproduction_request(
                submission=submission,
                requested_by=by,
                counted=submission.participant.user_id == request.user.pk,
            )
        except ReproductionQuotaExceeded as error:
            wait = (error.next_at - timezone.now()).total_seconds()
            raise too_many(str(error), wait) from None
        except ReproductionRefused as error:
            message = str(error)
            return Response(
                {"detail": message, "errors": {error.field: [message]}},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {"id": reproduction.pk, "state": reproduction.state}, status=status.HTTP_202_ACCEPTED
        )


class ReproductionDetailView(APIView):
    throttle_scope = POLLS

    @extend_schema(
        summary="A reproduction: where it ran and whether the scores match",
        responses=ReproductionSerializer,
    )
    def get(self, request: Request, reproduction_id: int) -> Response:
        reproduction = reproduction_readable_by(request.user, reproduction_id)
        if reproduction is None:
            raise exceptions.NotFound(f"No reproduction {reproduction_id} of yours.")
        return Response(ReproductionSerializer(reproduction).data)
