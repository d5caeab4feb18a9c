"""A teacher's destination options reach students' terminals in the data section's
rclone line: whatever a hostile or careless teacher typed there (shell syntax,
quotes, commas that would end rclone's option) stays one quoted argument, and a
shell given the line runs rclone and nothing else."""

from __future__ import annotations

import shlex

import pytest

from dispatch.student_data import destination_shown
from tests.factories import DestinationFactory

HOSTILE = 'https://s3.example.org/$(touch /tmp/pwned)`id`;rm -rf ~,"quoted":x'


@pytest.mark.django_db
def test_a_hostile_option_value_stays_one_quoted_argument() -> None:
    destination = DestinationFactory(
        type="s3", options={"provider": "Minio", "endpoint": HOSTILE}, path="bucket/prefix"
    )

    shown = destination_shown(destination, "bucket/prefix/challenge", "challenge")

    assert shown.fetch_command is not None
    words = shlex.split(shown.fetch_command)
    assert words[:2] == ["rclone", "copy"]
    assert words[3] == "challenge"
    assert len(words) == 4  # nothing of the value became a word, a command or a redirect
    # rclone reads the value back whole: quoted, with its inner quotes doubled.
    assert (
        'endpoint="https://s3.example.org/$(touch /tmp/pwned)`id`;rm -rf ~,""quoted"":x"'
        in (words[2])
    )
