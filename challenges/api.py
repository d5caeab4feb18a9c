"""Challenges over the API: list, describe, create (teachers), publish, releases, join.

Creating goes through ChallengeForm, the admin's form, so a script gets the same
checks and the same messages as a teacher in the browser.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Field, Model
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.datasets import DatasetError
from challenges.forms import ChallengeForm, ChallengeForms
from challenges.models import Challenge, Participant
from challenges.sections import challenge_sections
from challenges.selectors import (
    challenge_for,
    challenge_joinable,
    challenges_owned_by,
    challenges_visible_to,
)
from challenges.services import JoinRefused, PublishError, challenge_publish, participant_join
from challenges.splitting import SplitError
from foundation.api import IsTeacher, caller
from foundation.throttles import JOINS, check_join_code_api
from foundation.unique_races import validated_again_after_a_unique_race

TOO_MANY_JOIN_TRIES = OpenApiResponse(
    description="Too many join codes tried (right or wrong), or too many join requests: "
    "`Retry-After` says when to try again."
)


class CoreChallengeSerializer(serializers.Serializer[Any]):
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
    team_size = serializers.IntegerField(
        help_text="Students may form teams of up to this many (1: everyone works alone)."
    )
    release_order = serializers.CharField(
        help_text="shuffled (the classes mixed in every release, seeded) or file (the "
        "dataset's order)."
    )
    drift = serializers.CharField(help_text="none, ordered, class_prior or noise.")
    drift_column = serializers.CharField()
    drift_strength = serializers.FloatField()


def _composed(name: str, *, detail: bool) -> Any:
    """The core's fields and every section's beside them (each section's serializer
    reads the challenge, through its row): the description stays flat, as the public
    API has always had it."""
    parts = [
        part
        for section in challenge_sections()
        for part in (section.serializer, section.detail_serializer if detail else None)
        if part is not None
    ]
    return type(name, (CoreChallengeSerializer, *parts), {})


# Composed once the apps are ready (the sections register in their AppConfig.ready):
# this module is first imported by the URL configuration.
ChallengeSerializer = _composed("ChallengeSerializer", detail=False)
ChallengeDetailSerializer = _composed("ChallengeDetailSerializer", detail=True)


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
    """The request's fields, those a script left out taking the model's default."""
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
    parts: list[tuple[type[Model], type[forms.ModelForm[Any]]]] = [
        (Challenge, ChallengeForm),
        *((section.model, section.form) for section in challenge_sections()),
    ]
    for model, form in parts:
        for name in form.base_fields:
            model_field = model._meta.get_field(name)
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
        challenge = validated_again_after_a_unique_race(request.FILES, lambda: _created(request))
        return Response(ChallengeSerializer(challenge).data, status=status.HTTP_201_CREATED)


def _created(request: Request) -> Challenge:
    """Validated, then saved in one transaction (ChallengeForms.save)."""
    forms = ChallengeForms(_form_data(request), request.FILES, named_for=caller(request))
    if not forms.is_valid():
        raise exceptions.ValidationError(forms.errors)
    return forms.save(owner=caller(request))


class ChallengeDetailView(APIView):
    @extend_schema(responses=ChallengeDetailSerializer, summary="A challenge's description")
    def get(self, request: Request, slug: str) -> Response:
        challenge = visible_challenge(request, slug, or_joinable=True)
        return Response(ChallengeDetailSerializer(challenge).data)


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


class JoinSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="The join code the teacher gave the class.")


class ChallengeJoinView(APIView):
    throttle_scope = JOINS

    @extend_schema(
        request=JoinSerializer,
        responses={
            201: ChallengeSerializer,
            400: OpenApiResponse(
                description="`errors.code` says what to fix: not the challenge's code "
                "(compared without case), or the challenge has closed."
            ),
            429: TOO_MANY_JOIN_TRIES,
        },
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
