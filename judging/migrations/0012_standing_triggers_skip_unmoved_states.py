from django.db import migrations

from judging.standing_state_sql import narrow_update_triggers, widen_update_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("judging", "0011_submission_challenge_newest"),
    ]

    operations = [
        # The standings' and the history points' UPDATE triggers recompute only for
        # a state change that can move them (PostgreSQL only: SQLite keeps neither).
        migrations.RunPython(narrow_update_triggers, widen_update_triggers),
    ]
