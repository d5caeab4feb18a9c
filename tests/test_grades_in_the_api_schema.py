"""The grades endpoint is in the OpenAPI schema: both formats, the row's columns,
and the house's error shape."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_schema_documents_grades_as_json_and_csv(teacher_client: Client) -> None:
    schema = teacher_client.get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/challenges/{slug}/grades/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    (format_parameter,) = [p for p in operation["parameters"] if p["name"] == "format"]
    assert format_parameter["schema"]["enum"] == ["csv", "json"]
    row = schema["components"]["schemas"]["GradeRow"]["properties"]
    assert {"rank", "participant", "mark", "final", "missing"} <= set(row)
    error = operation["responses"]["404"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/GradesError")
