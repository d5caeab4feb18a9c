"""Publishing freezes a challenge and stores its split: the training rows and test
features where workers read, the hidden labels where only the control side reads."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from django.db import connection
from django.test import Client

from challenges.models import Challenge
from challenges.services import PublishError, challenge_publish
from foundation.content_store import artifact_store, private_store
from tests.factories import ChallengeFactory


@pytest.mark.django_db
def test_publish_stores_train_and_test_features_without_labels() -> None:
    challenge = ChallengeFactory()

    split = challenge_publish(challenge=challenge)

    train = artifact_store().read_frame(split.train_sha256)
    test_features = artifact_store().read_frame(split.test_features_sha256)
    labels = private_store().read_frame(split.labels_sha256)
    assert len(train) == split.train_rows == 105
    assert "species" in train.columns
    assert "species" not in test_features.columns
    assert len(test_features) == len(labels) == split.public_test_rows + split.private_test_rows
    assert set(labels["part"]) == {"public", "private"}
    assert not (artifact_store().root / split.labels_sha256[:2] / split.labels_sha256).exists()


@pytest.mark.django_db
def test_hidden_labels_match_the_test_rows_of_the_dataset() -> None:
    challenge = ChallengeFactory()
    split = challenge_publish(challenge=challenge)
    dataset = pd.read_csv(challenge.dataset.path)

    labels = private_store().read_frame(split.labels_sha256)

    assert list(dataset.loc[labels["row_id"], "species"]) == list(labels["species"])


@pytest.mark.django_db
def test_publishing_twice_is_refused() -> None:
    challenge = ChallengeFactory()
    challenge_publish(challenge=challenge)

    with pytest.raises(PublishError, match="already published"):
        challenge_publish(challenge=challenge)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_publishes_make_one_split() -> None:
    challenge = ChallengeFactory()
    outcomes: list[str] = []

    def publish() -> None:
        try:
            challenge_publish(challenge=Challenge.objects.get(pk=challenge.pk))
            outcomes.append("published")
        except PublishError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["published", "refused"]


@pytest.mark.django_db
def test_the_admin_publish_button_freezes_the_configuration(
    teacher_client: Client, teacher: object
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    page = f"/admin/challenges/challenge/{challenge.pk}/change/"

    response = teacher_client.post(
        f"/admin/challenges/challenge/{challenge.pk}/publish/", {"post": "yes"}, follow=True
    )

    assert (
        f"Challenge &#x27;{challenge.slug}&#x27; published: 105 train" in response.content.decode()
    )
    challenge.refresh_from_db()
    assert challenge.is_published
    form = teacher_client.get(page).context["adminform"].form
    assert "target_column" not in form.fields
    assert "metric" not in form.fields
    assert "closes_at" in form.fields
    assert 'id="publish-challenge"' not in teacher_client.get(page).content.decode()


@pytest.mark.django_db
def test_a_published_challenge_cannot_be_deleted(teacher_client: Client, teacher: object) -> None:
    challenge = ChallengeFactory(owner=teacher)
    challenge_publish(challenge=challenge)

    response = teacher_client.post(
        f"/admin/challenges/challenge/{challenge.pk}/delete/", {"post": "yes"}
    )

    # Refused with the reason (tests/test_published_challenge_deletion_is_refused.py).
    assert response.status_code == 302
    assert Challenge.objects.filter(pk=challenge.pk).exists()
