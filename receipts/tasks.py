"""Thin tasks: posing questions about delivered releases and closing the ones
past their deadline (control queue, on beat's tick)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="receipts.tasks.pose_and_close_questions", ignore_result=True)
def pose_and_close_questions() -> tuple[int, int]:
    from receipts.services import questions_close, questions_pose_all

    return questions_pose_all(), questions_close()
