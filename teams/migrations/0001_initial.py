"""Team and TeamEvent move here from challenges/, tables and rows untouched.

State only: the models keep their tables (`db_table`: challenges_team,
challenges_teamevent), so nothing is written to the database. challenges'
0011 then drops them from its own state and points Participant.team here.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.db import migrations, models

import teams.models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("challenges", "0010_teams"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Team",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=40)),
                        ("join_code", models.CharField(default=teams.models.team_code, editable=False, max_length=20)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("challenge", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="teams", to="challenges.challenge")),
                    ],
                    options={
                        "db_table": "challenges_team",
                        "ordering": ["name"],
                        "constraints": [
                            models.UniqueConstraint(django.db.models.functions.text.Lower("name"), models.F("challenge"), name="team_name_unique_per_challenge"),
                            models.UniqueConstraint(fields=("challenge", "join_code"), name="team_code_unique_per_challenge"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="TeamEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("action", models.CharField(choices=[("created", "created the team"), ("joined", "joined"), ("left", "left"), ("moved", "moved by the teacher"), ("removed", "removed by the teacher")], max_length=10)),
                        ("by", models.CharField(help_text="Who made the change (a username).", max_length=150)),
                        ("note", models.CharField(blank=True, max_length=200)),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("participant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="team_events", to="challenges.participant")),
                        ("team", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="events", to="teams.team")),
                    ],
                    options={
                        "db_table": "challenges_teamevent",
                        "ordering": ["-at", "-id"],
                    },
                ),
            ],
        ),
    ]
