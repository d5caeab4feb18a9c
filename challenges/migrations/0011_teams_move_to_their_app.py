"""Team and TeamEvent now belong to the teams app (teams' 0001 took them over
with their tables): challenges forgets them and Participant.team points there.

State only for the models: the foreign key column and its constraint already
reference the table challenges_team, which the teams app keeps. The content
types of the two models are relabelled, so the permissions granted on them
(the Teachers group's) and the admin's history follow the models.
"""

from django.db import migrations, models
import django.db.models.deletion

MOVED = ("team", "teamevent")


def _relabel(apps, schema_editor, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        # A database migrated before content types existed has nothing to relabel;
        # one where the new label exists already (a partial run) keeps that one.
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_to_teams(apps, schema_editor):
    _relabel(apps, schema_editor, "challenges", "teams")


def content_types_to_challenges(apps, schema_editor):
    _relabel(apps, schema_editor, "teams", "challenges")


class Migration(migrations.Migration):

    dependencies = [
        ("challenges", "0010_teams"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("teams", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="participant",
                    name="team",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="members", to="teams.team"),
                ),
                migrations.RemoveConstraint(model_name="team", name="team_name_unique_per_challenge"),
                migrations.RemoveConstraint(model_name="team", name="team_code_unique_per_challenge"),
                migrations.DeleteModel(name="TeamEvent"),
                migrations.DeleteModel(name="Team"),
            ],
        ),
        migrations.RunPython(content_types_to_teams, content_types_to_challenges),
    ]
