"""Proof of receipt over the API: a student lists their questions and answers
each once, before its deadline. Expected answers are never shown."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.api import caller_participant, visible_challenge
from challenges.models import Participant
from foundation.api import caller
from foundation.throttles import RECEIPTS
from receipts.models import Question
from receipts.selectors import questions_of
from receipts.services import AnswerRefused, question_answer, questions_pose


class QuestionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    release = serializers.IntegerField(source="release.sequence")
    kind = serializers.CharField(help_text="cell, row_count or column_sum.")
    column = serializers.CharField()
    row_number = serializers.IntegerField(
        allow_null=True, help_text="For a cell: its row in the file, counting from 1."
    )
    row_id = serializers.CharField(help_text="For a cell, when the challenge has an id column.")
    prompt = serializers.CharField()
    posted_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    verdict = serializers.CharField(help_text="open, correct, partial, incorrect or missed.")


def _participant(request: Request, slug: str) -> Participant:
    return caller_participant(request, visible_challenge(request, slug))


class QuestionListView(APIView):
    throttle_scope = RECEIPTS

    @extend_schema(
        summary="Your proof-of-receipt questions, open ones first",
        responses=QuestionSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        participant = _participant(request, slug)
        # Pose what is due now rather than at beat's next tick.
        questions_pose(challenge=participant.challenge)
        questions = sorted(questions_of(participant), key=lambda q: (q.verdict != "open", q.id))
        return Response(QuestionSerializer(questions, many=True).data)


class QuestionAnswerView(APIView):
    throttle_scope = RECEIPTS

    @extend_schema(
        summary="Answer a question once, before its deadline; the verdict comes back",
        request=inline_serializer("Answer", {"answer": serializers.CharField()}),
        responses=QuestionSerializer,
    )
    def post(self, request: Request, question_id: int) -> Response:
        answer = request.data.get("answer")
        if answer is None:
            raise exceptions.ValidationError({"answer": ["Send the answer as `answer`."]})
        try:
            answered = question_answer(
                question_id=question_id, user_id=caller(request).pk, answer=str(answer)
            )
        except Question.DoesNotExist:
            raise exceptions.NotFound(f"No question {question_id} of yours.") from None
        except AnswerRefused as error:
            raise exceptions.ValidationError({"answer": [str(error)]}) from None
        return Response(QuestionSerializer(answered).data)
