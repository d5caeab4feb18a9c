"""Challenges over the API: list, describe, create (teachers), publish, releases, join.

Creating goes through ChallengeForm, the admin's form, so a script gets the same
checks and the same messages as a teacher in the browser.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Field
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.datasets import DatasetError
from challenges.forms import ChallengeForm
from challenges.models import Challenge, Participant
from challenges.selectors import (
    challenge_for,
    challenge_joinable,
    challenges_owned_by,
    challenges_visible_to,
)
from challenges.services import JoinRefused, PublishError, challenge_publish, participant_join
from challenges.splitting import SplitError
from dispatch.models import Release, TransactionState
from dispatch.selectors import destinations_owned_by, release_timeline
from foundation.api import IsTeacher, caller, form_errors
from foundation.throttles import check_join_code_api

TOO_MANY_JOIN_TRIES = OpenApiResponse(
    description="Too many join codes tried (right or wrong): `Retry-After` says when to try again."
)


class ReleaseScheduleSerializer(serializers.Serializer[Any]):
    sequence = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    rows = serializers.IntegerField()


class ChallengeSerializer(serializers.Serializer[Any]):
    """A challenge's public description: never the data, the split or the join code."""

    slug = serializers.SlugField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    task_type = serializers.CharField()
    metric = serializers.CharField()
    target_column = serializers.CharField()
    id_column = serializers.CharField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    cv_folds = serializers.IntegerField()
    cpu_seconds_limit = serializers.IntegerField()
    memory_mb_limit = serializers.IntegerField()
    wall_seconds_limit = serializers.IntegerField()
    submissions_per_day = serializers.IntegerField()
    final_selections = serializers.IntegerField()
    team_size = serializers.IntegerField(
        help_text="Students may form teams of up to this many (1: everyone works alone)."
    )
    batch_size = serializers.IntegerField(help_text="Rows per timed prediction batch (0: all).")
    step_latency_sla_ms = serializers.IntegerField(allow_null=True)
    pipeline_latency_sla_ms = serializers.IntegerField(allow_null=True)
    max_sweep_configurations = serializers.IntegerField()
    reproduce_tolerance = serializers.FloatField()
    release_format = serializers.CharField()
    release_cumulative = serializers.BooleanField()
    probe_interval_seconds = serializers.IntegerField()
    probe_rows = serializers.IntegerField()
    latency_sla_ms = serializers.IntegerField()
    receipt_questions = serializers.IntegerField()
    receipt_deadline_hours = serializers.IntegerField()
    drift = serializers.CharField(help_text="none, ordered, class_prior or noise.")
    drift_column = serializers.CharField()
    drift_strength = serializers.FloatField()


class ChallengeDetailSerializer(ChallengeSerializer):
    releases = ReleaseScheduleSerializer(many=True)


def visible_challenge(request: Request, slug: str, *, or_joinable: bool = False) -> Challenge:
    """A challenge the caller may see (or, with `or_joinable`, may join); else 404."""
    challenge = challenge_for(request.user, slug, or_joinable=or_joinable)
    if challenge is None:
        raise exceptions.NotFound(f"No challenge '{slug}' that you can see.")
    return challenge


def caller_participant(request: Request, challenge: Challenge) -> Participant:
    """The caller's participation in the challenge; 403 saying how to join if none."""
    participant = Participant.objects.filter(challenge=challenge, user=caller(request)).first()
    if participant is None:
        raise exceptions.PermissionDenied(
            f"You are not taking part in '{challenge.slug}': join it first "
            f"(POST /api/challenges/{challenge.slug}/join/ with the code from your teacher)."
        )
    return participant


def _owned_challenge(request: Request, slug: str) -> Challenge:
    return get_object_or_404(challenges_owned_by(request.user), slug=slug)


def _form_data(request: Request) -> QueryDict:
    """The request as the admin form would post it: destinations (and the judge store)
    by name become the teacher's destination ids, and fields a script left out take
    the model's default."""
    if not isinstance(request.data, QueryDict):
        raise exceptions.ValidationError(
            {"dataset": ["Send the challenge as multipart/form-data, with the dataset file."]}
        )
    # The fields only: request.data holds the uploaded files too, and copying it
    # would deep-copy (pickle) an upload streamed to a temporary file.
    data = QueryDict(mutable=True)
    for name, values in request.data.lists():
        if name not in request.FILES:
            data.setlist(name, values)
    # The judge store too is one of the teacher's destinations, named.
    for field in ("destinations", "judge_store"):
        names = [name for name in data.getlist(field) if name]
        owned = dict(
            destinations_owned_by(request.user).filter(name__in=names).values_list("name", "id")
        )
        unknown = [name for name in names if name not in owned]
        if unknown:
            raise exceptions.ValidationError(
                {
                    field: [
                        f"No destination named {name!r}: create it first (POST /api/destinations/)."
                        for name in unknown
                    ]
                }
            )
        data.setlist(field, [str(owned[name]) for name in names])
    for name in ChallengeForm.base_fields:
        model_field = Challenge._meta.get_field(name)
        if not isinstance(model_field, Field):
            continue
        if name not in data and name not in request.FILES and model_field.has_default():
            data[name] = str(model_field.get_default())
    return data


class ChallengeListView(APIView):
    @extend_schema(responses=ChallengeSerializer(many=True), summary="Challenges you may see")
    def get(self, request: Request) -> Response:
        challenges = challenges_visible_to(request.user).order_by("-opens_at")
        return Response(ChallengeSerializer(challenges, many=True).data)

    @extend_schema(
        summary="Create a challenge (teachers)",
        description="Multipart: the `dataset` file and the admin form's fields; "
        "`destinations` by name, repeatable.",
        request={"multipart/form-data": inline_serializer("ChallengeCreate", {})},
        responses={201: ChallengeSerializer, 400: OpenApiResponse(description="Field errors")},
    )
    def post(self, request: Request) -> Response:
        if not IsTeacher().has_permission(request, self):
            raise exceptions.PermissionDenied(IsTeacher.message)
        form = ChallengeForm(_form_data(request), request.FILES)
        if not form.is_valid():
            raise form_errors(form)
        with transaction.atomic():
            challenge = form.save(commit=False)
            challenge.owner = caller(request)
            challenge.save()
            form.save_m2m()
        return Response(ChallengeSerializer(challenge).data, status=status.HTTP_201_CREATED)


class ChallengeDetailView(APIView):
    @extend_schema(responses=ChallengeDetailSerializer, summary="A challenge's description")
    def get(self, request: Request, slug: str) -> Response:
        challenge = visible_challenge(request, slug, or_joinable=True)
        releases = Release.objects.filter(challenge=challenge).order_by("sequence")
        data: dict[str, Any] = dict(ChallengeSerializer(challenge).data)
        data["releases"] = ReleaseScheduleSerializer(releases, many=True).data
        return Response(data)


class ChallengePublishView(APIView):
    permission_classes = [IsTeacher]

    @extend_schema(
        request=None,
        responses=ChallengeSerializer,
        summary="Publish: split the data, plan the releases (its teacher)",
    )
    def post(self, request: Request, slug: str) -> Response:
        challenge = _owned_challenge(request, slug)
        try:
            challenge_publish(challenge=challenge)
        except (PublishError, DatasetError, SplitError) as error:
            raise exceptions.ValidationError({"non_field_errors": [str(error)]}) from None
        return Response(ChallengeSerializer(challenge).data)


def _release_state(states: set[str]) -> str:
    """One word for a release from its transactions' states, the most telling first."""
    for state in ("failed", "running", "queued", "planned"):
        if state in states:
            return state
    if states and states <= {TransactionState.DONE, TransactionState.CANCELLED}:
        return "done" if TransactionState.DONE in states else "cancelled"
    return "planned"


class ReleaseSerializer(ReleaseScheduleSerializer):
    state = serializers.CharField()
    destinations = serializers.ListField(child=serializers.CharField())


class ReleaseListView(APIView):
    @extend_schema(responses=ReleaseSerializer(many=True), summary="A challenge's releases")
    def get(self, request: Request, slug: str) -> Response:
        challenge = visible_challenge(request, slug)
        teaches = challenges_owned_by(request.user).filter(pk=challenge.pk).exists()
        mine = set(
            Participant.objects.filter(challenge=challenge, user=caller(request)).values_list(
                "id", flat=True
            )
        )
        rows = []
        for release in release_timeline(challenge):
            # A student sees the shared deliveries and their own folder's, not classmates'.
            shown = [
                tx
                for tx in release.transactions.all()
                if teaches or tx.participant_id is None or tx.participant_id in mine
            ]
            rows.append(
                {
                    "sequence": release.sequence,
                    "due_at": release.due_at,
                    "rows": release.rows,
                    "state": _release_state({tx.state for tx in shown}),
                    "destinations": sorted({tx.destination.name for tx in shown}),
                }
            )
        return Response(ReleaseSerializer(rows, many=True).data)


class JoinSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="The join code the teacher gave the class.")


class ChallengeJoinView(APIView):
    @extend_schema(
        request=JoinSerializer,
        responses={201: ChallengeSerializer, 429: TOO_MANY_JOIN_TRIES},
        summary="Join a challenge with its code",
    )
    def post(self, request: Request, slug: str) -> Response:
        check_join_code_api(request)
        body = JoinSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        challenge = challenge_joinable(slug)
        if challenge is None:
            raise exceptions.NotFound(f"No challenge '{slug}' open to sign-up with a code.")
        try:
            participant_join(
                challenge=challenge, user=caller(request), code=body.validated_data["code"]
            )
        except JoinRefused as error:
            raise exceptions.ValidationError({"code": [str(error)]}) from None
        return Response(ChallengeSerializer(challenge).data, status=status.HTTP_201_CREATED)
