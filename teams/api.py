"""Teams over the API: my team, create one, join one with its code, leave it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.api import TOO_MANY_JOIN_TRIES, caller_participant, visible_challenge
from challenges.models import Participant
from foundation.throttles import JOINS, check_join_code_api
from teams.selectors import team_of
from teams.services import TeamRefused, team_create, team_join, team_leave


class TeamSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    join_code = serializers.CharField(
        help_text="Give it to classmates: they join with POST /api/challenges/{slug}/team/join/."
    )
    created_at = serializers.DateTimeField()
    members = serializers.ListField(child=serializers.CharField(), help_text="Usernames.")
    team_size = serializers.IntegerField(help_text="The most members a team may have.")


class TeamCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=40, help_text="Unique in the challenge.")


class TeamJoinSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="The team's join code, from one of its members.")


_REFUSED = OpenApiResponse(description='Refused: `{"detail", "errors"}` says why.')


def _participant(request: Request, slug: str) -> Participant:
    return caller_participant(request, visible_challenge(request, slug))


def _team_response(participant: Participant, code: int = status.HTTP_200_OK) -> Response:
    team = team_of(participant)
    if team is None:
        slug = participant.challenge.slug
        raise exceptions.NotFound(
            f"You are not in a team of '{slug}': create one (POST /api/challenges/{slug}/teams/) "
            f"or join one (POST /api/challenges/{slug}/team/join/ with its code)."
        )
    return Response(TeamSerializer(team).data, status=code)


class MyTeamView(APIView):
    throttle_scope = JOINS

    @extend_schema(
        summary="My team in a challenge, with its members and join code",
        responses={200: TeamSerializer, 404: OpenApiResponse(description="Not in a team.")},
    )
    def get(self, request: Request, slug: str) -> Response:
        return _team_response(_participant(request, slug))


class TeamCreateView(APIView):
    throttle_scope = JOINS

    @extend_schema(
        summary="Create a team (you join it)",
        request=TeamCreateSerializer,
        responses={201: TeamSerializer, 400: _REFUSED},
    )
    def post(self, request: Request, slug: str) -> Response:
        participant = _participant(request, slug)
        body = TeamCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            team_create(participant=participant, name=body.validated_data["name"])
        except TeamRefused as error:
            raise exceptions.ValidationError({"name": [str(error)]}) from None
        return _team_response(participant, status.HTTP_201_CREATED)


class TeamJoinView(APIView):
    throttle_scope = JOINS

    @extend_schema(
        summary="Join a team with its code",
        request=TeamJoinSerializer,
        responses={200: TeamSerializer, 400: _REFUSED, 429: TOO_MANY_JOIN_TRIES},
    )
    def post(self, request: Request, slug: str) -> Response:
        participant = _participant(request, slug)
        check_join_code_api(request)
        body = TeamJoinSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            team_join(participant=participant, code=body.validated_data["code"])
        except TeamRefused as error:
            raise exceptions.ValidationError({"code": [str(error)]}) from None
        return _team_response(participant)


class TeamLeaveView(APIView):
    throttle_scope = JOINS

    @extend_schema(
        summary="Leave my team (an empty team is kept, with its code)",
        request=None,
        responses={
            200: inline_serializer("TeamLeft", {"left": serializers.CharField()}),
            400: _REFUSED,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        participant = _participant(request, slug)
        try:
            team = team_leave(participant=participant)
        except TeamRefused as error:
            raise exceptions.ValidationError({"non_field_errors": [str(error)]}) from None
        return Response({"left": team.name})
