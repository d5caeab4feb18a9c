"""A teacher sets up and publishes a challenge in the real admin, in headless Chromium.

Against a live server, the teacher logs in, fills "Add challenge" and uploads a CSV
without the target column: the page names the missing column and nothing is saved.
On the same page the teacher then picks the right file and saves a draft they own.
Publishing from the change page (once confirmed) freezes the challenge and splits its 150 rows.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from challenges.models import Challenge
from tests.factories import iris_csv


def write_csv(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path


def fill_add_challenge_form(page: Page, *, name: str, slug: str, dataset: Path) -> None:
    """From the admin index to a filled "Add challenge" form; limits keep their defaults."""
    page.goto("/admin/")
    page.locator("#challenges-challenge").get_by_role("link", name="Challenges").click()
    page.get_by_role("link", name="Add challenge").click()
    today = timezone.localdate()
    # Slug first: the admin's script rewrites the slug from the name until the slug is edited.
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Name").fill(name)
    page.locator("#id_opens_at_0").fill(today.isoformat())
    page.locator("#id_opens_at_1").fill("00:00:00")
    page.locator("#id_closes_at_0").fill((today + timedelta(days=30)).isoformat())
    page.locator("#id_closes_at_1").fill("00:00:00")
    page.get_by_label("Target column").fill("species")
    page.get_by_label("Task type").select_option("classification")
    page.get_by_label("Metric").select_option("accuracy")
    page.get_by_label("Dataset").set_input_files(dataset)


def save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()


@pytest.mark.django_db(transaction=True)
def test_a_dataset_without_the_target_column_is_refused_then_a_valid_one_is_saved(
    teacher_page: Page, teacher: User, tmp_path: Path
) -> None:
    page = teacher_page
    no_target = iris_csv().replace(b"species", b"variety", 1)
    flowers = write_csv(tmp_path, "flowers.csv", no_target)
    fill_add_challenge_form(page, name="Iris species", slug="iris-species", dataset=flowers)
    save(page)

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-target_column .errorlist")).to_contain_text(
        "The dataset has no column 'species'"
    )
    assert not Challenge.objects.exists()

    # Still on the form: a browser never keeps a chosen file, so the teacher picks the right one.
    page.get_by_label("Dataset").set_input_files(write_csv(tmp_path, "iris.csv", iris_csv()))
    save(page)

    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    challenge = Challenge.objects.get(slug="iris-species")
    assert challenge.owner == teacher
    assert challenge.status == "draft"
    assert challenge.dataset_rows == 150


@pytest.mark.django_db(transaction=True)
def test_publish_button_freezes_the_challenge_and_splits_its_data(
    teacher_page: Page, teacher: User, tmp_path: Path
) -> None:
    page = teacher_page
    iris = write_csv(tmp_path, "iris.csv", iris_csv())
    fill_add_challenge_form(page, name="Iris to publish", slug="iris-to-publish", dataset=iris)
    save(page)
    page.locator("#result_list").get_by_role("link", name="Iris to publish").click()
    expect(page.locator(".object-tools")).to_contain_text("Status: draft")

    page.locator("#publish-challenge").click()
    page.get_by_role("button", name="Yes, publish").click()  # the confirmation page

    success = page.locator(".messagelist .success")
    expect(success).to_contain_text("Challenge 'iris-to-publish' published")
    expect(page.locator(".object-tools")).to_contain_text("Status: open")
    expect(page.locator("#publish-challenge")).to_have_count(0)
    page.screenshot(path=tmp_path / "published.png", full_page=True)
    challenge = Challenge.objects.select_related("split").get(slug="iris-to-publish", owner=teacher)
    assert challenge.published_at is not None
    split = challenge.split
    assert split.train_rows + split.public_test_rows + split.private_test_rows == 150
    assert min(split.train_rows, split.public_test_rows, split.private_test_rows) > 0
    expect(success).to_contain_text(f"published: {split}.")
