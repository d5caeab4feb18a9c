from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from sklearn.datasets import load_iris

from challenges.models import Challenge
from challenges.sections import challenge_sections
from challenges.services import teacher_group_ensure


def iris_csv() -> bytes:
    bunch = load_iris(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "species"})
    frame["species"] = frame["species"].map(dict(enumerate(bunch.target_names)))
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class TeacherFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"teacher{n}")
    is_staff = True

    @factory.post_generation
    def teachers_group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(teacher_group_ensure())


class ChallengeFactory(factory.django.DjangoModelFactory):
    """A valid draft challenge on the iris dataset (150 rows, 3 classes)."""

    class Meta:
        model = Challenge

    owner = factory.SubFactory(TeacherFactory)
    name = factory.Sequence(lambda n: f"Iris {n}")
    slug = factory.Sequence(lambda n: f"iris-{n}")
    dataset = factory.django.FileField(data=iris_csv(), filename="iris.csv")
    dataset_format = "csv"
    dataset_sha256 = hashlib.sha256(iris_csv()).hexdigest()
    dataset_rows = 150
    target_column = "species"
    task_type = "classification"
    metric = "accuracy"
    split_seed = 7
    # As challenges made before release orders existed (migration 0013): the suite's
    # expectations of what a release holds were written for the file's order.
    release_order = "file"
    opens_at = factory.LazyFunction(timezone.now)
    closes_at = factory.LazyAttribute(lambda challenge: challenge.opens_at + timedelta(days=14))

    @classmethod
    def _create(cls, model_class: type[Challenge], *args: Any, **kwargs: Any) -> Challenge:
        """Settings of the apps' sections (challenges/sections.py) go to their rows."""
        sections = [
            (section, {name: kwargs.pop(name) for name in section.field_names if name in kwargs})
            for section in challenge_sections()
        ]
        challenge = super()._create(model_class, *args, **kwargs)
        for section, values in sections:
            if values:
                row = section.of(challenge)
                many = {name: values.pop(name) for name in ("destinations",) if name in values}
                for name, value in values.items():
                    setattr(row, name, value)
                row.save()
                for name, value in many.items():
                    getattr(row, name).set(value)
        return challenge


class DestinationFactory(factory.django.DjangoModelFactory):
    """A local folder destination (the path is set by the test, under its tmp_path)."""

    class Meta:
        model = "dispatch.Destination"

    owner = factory.SubFactory(TeacherFactory)
    name = factory.Sequence(lambda n: f"folder-{n}")
    type = "local"
    path = "/tmp/ppipe-unused"


class StudentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"student{n}")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "challenges.Participant"

    challenge = factory.SubFactory(ChallengeFactory)
    user = factory.SubFactory(StudentFactory)


class SubmissionFactory(factory.django.DjangoModelFactory):
    """A submission row as judging leaves it (state and results set by the test);
    its code is not in the artifact store."""

    class Meta:
        model = "judging.Submission"

    participant = factory.SubFactory(ParticipantFactory)
    challenge = factory.SelfAttribute("participant.challenge")
    code_sha256 = "0" * 64
    code_bytes = 100
