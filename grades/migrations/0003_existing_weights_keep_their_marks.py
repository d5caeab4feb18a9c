"""Weights saved before tolerances existed keep the marks they gave: their cost
tolerances are 0 % (every difference counts, as it did), while new rows get the
model's default of 10 %. Their scaling is relative, as it was (0002's default)."""

from django.db import migrations

TOLERANCES = ("cpu_seconds_tolerance", "peak_memory_mb_tolerance", "endpoint_freshness_tolerance")


def tolerances_off_for_existing_rows(apps, schema_editor):
    GradeWeights = apps.get_model("grades", "GradeWeights")
    GradeWeights.objects.update(**{name: 0.0 for name in TOLERANCES})


class Migration(migrations.Migration):

    dependencies = [
        ("grades", "0002_scaling_and_cost_tolerance"),
    ]

    operations = [
        # Going back drops the columns (0002), so there is nothing to undo here.
        migrations.RunPython(tolerances_off_for_existing_rows, migrations.RunPython.noop),
    ]
