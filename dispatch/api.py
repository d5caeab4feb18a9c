"""Destinations over the API (teachers): the admin's form, secrets write-only; a
challenge's releases as its teacher and its students see them; and a student's
data section (where their data arrives, what reached them) with its downloads.

`params` holds every rclone option; the ones that are secret (SECRET_OPTIONS)
are stored apart and only their names are ever returned.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.api import caller_participant, visible_challenge
from challenges.models import Participant
from challenges.selectors import challenges_owned_by
from dispatch.challenge_section import ReleaseScheduleSerializer
from dispatch.forms import DestinationForm
from dispatch.models import Destination, TransactionState
from dispatch.selectors import destinations_owned_by, release_timeline
from dispatch.student_data import (
    DeliveredRelease,
    ReleaseNotRebuilt,
    data_section,
    delivered_release_file,
)
from dispatch.views import release_file_response
from foundation.api import IsTeacher, caller
from foundation.throttles import DOWNLOADS
from worker_wing.release.remotes import SECRET_OPTIONS


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "boolean"}, {"type": "number"}]})
class OptionValueField(serializers.Field):
    """Any JSON value through to the destination form, which knows which option takes
    true/false or a number and says so by name; objects, lists and null it refuses."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # null too: DRF's "This field may not be null." would not name the option.
        return (False, data) if data is None else super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class DestinationInSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    type = serializers.CharField()
    path = serializers.CharField(required=False, allow_blank=True, default="")
    params = serializers.DictField(
        child=OptionValueField(),
        required=False,
        default=dict,
        help_text=(
            "rclone options; secret ones (keys, passwords) are write-only. Text, or "
            "true/false for switches and numbers for counts, sizes (KiB) and durations "
            '(seconds), as rclone reads them (stored as its text: "true", "5").'
        ),
    )


class DestinationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()
    path = serializers.CharField()
    params = serializers.DictField(source="options", child=serializers.CharField())
    secret_params_set = serializers.SerializerMethodField(
        help_text="Names of the secret options stored (never their values)."
    )

    def get_secret_params_set(self, destination: Destination) -> list[str]:
        return sorted(destination.secret_options)


class DestinationListView(APIView):
    permission_classes = [IsTeacher]

    @extend_schema(responses=DestinationSerializer(many=True), summary="Your destinations")
    def get(self, request: Request) -> Response:
        destinations = destinations_owned_by(request.user).order_by("name")
        return Response(DestinationSerializer(destinations, many=True).data)

    @extend_schema(
        request=DestinationInSerializer,
        responses={201: DestinationSerializer},
        summary="Add a destination (an rclone remote releases go to)",
    )
    def post(self, request: Request) -> Response:
        body = DestinationInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params: dict[str, Any] = body.validated_data["params"]
        if destinations_owned_by(request.user).filter(name=body.validated_data["name"]).exists():
            raise exceptions.ValidationError(
                {"name": ["You already have a destination of that name."]}
            )
        form = DestinationForm(
            {
                "name": body.validated_data["name"],
                "type": body.validated_data["type"],
                "path": body.validated_data["path"],
                "options_text": json.dumps(
                    {k: v for k, v in params.items() if k not in SECRET_OPTIONS}
                ),
                "secrets_text": json.dumps(
                    {k: v for k, v in params.items() if k in SECRET_OPTIONS}
                ),
            },
            instance=Destination(owner=caller(request)),
        )
        if not form.is_valid():
            # The form's two option fields are the API's `params`.
            renamed = {"options_text": "params", "secrets_text": "params"}
            errors: dict[str, list[str]] = {}
            for field, messages in form.errors.items():
                errors.setdefault(renamed.get(field, field), []).extend(str(m) for m in messages)
            raise exceptions.ValidationError(errors)
        destination = form.save()
        return Response(DestinationSerializer(destination).data, status=status.HTTP_201_CREATED)


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


class DataDestinationSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField(help_text="The rclone backend: local, s3, sftp…")
    address = serializers.CharField(help_text="Where your releases land (your own folder, if so).")
    fetch_command = serializers.CharField(
        allow_null=True,
        help_text="An rclone command that copies them, to run with your own credentials added; "
        "null for a local folder, read where it is.",
    )
    credentials = serializers.CharField(
        allow_null=True, help_text="The rclone flags for the credentials you add (never a value)."
    )


class DeliveredReleaseSerializer(serializers.Serializer[Any]):
    sequence = serializers.IntegerField()
    rows = serializers.IntegerField()
    delivered_at = serializers.DateTimeField()
    bytes = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(
        allow_null=True, help_text="Of the file as delivered (and as downloaded)."
    )
    download_url = serializers.SerializerMethodField(
        help_text="Where the teacher allows downloads: the file, byte for byte; else null."
    )

    def get_download_url(self, release: DeliveredRelease) -> str | None:
        if not self.context["downloads"]:
            return None
        return str(
            self.context["request"].build_absolute_uri(
                reverse("api-release-download", args=[self.context["slug"], release.sequence])
            )
        )


class DataSectionSerializer(serializers.Serializer[Any]):
    destinations = DataDestinationSerializer(many=True)
    releases = DeliveredReleaseSerializer(many=True)
    next_release_at = serializers.DateTimeField(
        allow_null=True, help_text="When the next release to you is due; null when none is."
    )
    downloads = serializers.BooleanField(help_text="Whether you may download your releases.")


class ChallengeDataView(APIView):
    @extend_schema(
        responses=DataSectionSerializer,
        summary="Your data: where it arrives, the releases delivered to you, the next one",
    )
    def get(self, request: Request, slug: str) -> Response:
        participant = caller_participant(request, visible_challenge(request, slug))
        section = data_section(participant)
        context = {"request": request, "slug": slug, "downloads": section.downloads}
        return Response(DataSectionSerializer(section, context=context).data)


class AnyAccept(BaseContentNegotiation):
    """The file is sent as it is whatever the client accepts (a download tool may ask
    for application/octet-stream); errors are the house's JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class ReleaseDownloadView(APIView):
    content_negotiation_class = AnyAccept
    throttle_scope = DOWNLOADS

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not a release delivered to you, or downloads off"),
        },
        summary="Download a release delivered to you, exactly as delivered (if allowed)",
    )
    def get(self, request: Request, slug: str, sequence: int) -> HttpResponse:
        participant = caller_participant(request, visible_challenge(request, slug))
        try:
            file = delivered_release_file(participant, sequence)
        except ReleaseNotRebuilt as error:
            raise ReleaseGone(str(error)) from None
        if file is None:
            raise exceptions.NotFound(f"No release {sequence} of yours to download.")
        return release_file_response(file)


class ReleaseGone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"
