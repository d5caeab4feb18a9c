"""Join codes unique across challenges, compared without case, so a student can sign
up with the code alone.

Codes that collide today (the same code in any case) are resolved deterministically:
the oldest challenge (by creation time, then id) keeps its code, and every later one
gets a fresh random code, which its teacher reads in the admin and gives the class.
Members already joined stay members."""

import secrets

from django.db import migrations, models
from django.db.models.functions import Lower

# Lower case (codes are compared without it), without 0/o, 1/l/i: a code is read aloud
# or copied from a projector. 31**10 codes; each is checked against every code taken.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def later_duplicates_get_fresh_codes(apps, schema_editor):
    Challenge = apps.get_model("challenges", "Challenge")
    rows = list(
        Challenge.objects.exclude(join_code="")
        .annotate(code_lower=Lower("join_code"))
        .order_by("created_at", "pk")
        .values_list("pk", "code_lower")
    )
    taken = {code for _, code in rows}
    kept = set()
    for pk, code in rows:
        if code not in kept:
            kept.add(code)
            continue
        fresh = code
        while fresh in taken:
            fresh = "".join(secrets.choice(ALPHABET) for _ in range(10))
        taken.add(fresh)
        Challenge.objects.filter(pk=pk).update(join_code=fresh)


class Migration(migrations.Migration):

    dependencies = [
        ("challenges", "0013_release_order"),
    ]

    operations = [
        migrations.RunPython(later_duplicates_get_fresh_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="challenge",
            name="join_code",
            field=models.CharField(
                blank=True,
                help_text="Students who know this code may join by themselves (empty: only the "
                "roster). Unique across challenges and compared without case.",
                max_length=40,
            ),
        ),
        migrations.AddConstraint(
            model_name="challenge",
            constraint=models.UniqueConstraint(
                Lower("join_code"),
                condition=models.Q(("join_code", ""), _negated=True),
                name="challenge_join_code_unique_without_case",
                violation_error_message="Another challenge already has this join code (codes "
                "are compared without case): choose another.",
            ),
        ),
    ]
