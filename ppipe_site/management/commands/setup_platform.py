from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from challenges.services import teacher_group_ensure
from foundation.accounts import admin_account_ensure
from foundation.periodic import register_periodic_tasks
from ppipe_site.demo import demo_challenge_ensure, demo_endpoint_ensure, demo_submissions_ensure


class Command(BaseCommand):
    help = (
        "Create the Teachers group, the admin account, the periodic tasks and the demo challenge."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-demo", action="store_true", help="Do not create the demo challenge."
        )
        parser.add_argument(
            "--demo-endpoint",
            default="",
            help="Register this URL (the demo model server) as a demo student's endpoint.",
        )

    def handle(
        self, *args: Any, no_demo: bool = False, demo_endpoint: str = "", **options: Any
    ) -> None:
        teacher_group_ensure()
        self.stdout.write("Teachers group: ready")
        account = admin_account_ensure()
        verb = "created" if account.created else "exists"
        shown = account.password if account.password else "(from PPIPE_ADMIN_PASSWORD)"
        self.stdout.write(f"Admin account {verb}: user {account.user.username}, password {shown}")
        periodic = register_periodic_tasks()
        self.stdout.write(f"Periodic tasks registered: {', '.join(task.name for task in periodic)}")
        if not no_demo:
            challenge, created = demo_challenge_ensure(owner=account.user)
            self.stdout.write(
                f"Demo challenge {'created' if created else 'exists'}: {challenge.slug}"
            )
            uploaded = demo_submissions_ensure(challenge=challenge)
            self.stdout.write(f"Demo submissions uploaded: {uploaded}")
            if demo_endpoint:
                endpoint = demo_endpoint_ensure(challenge=challenge, url=demo_endpoint)
                self.stdout.write(f"Demo endpoint registered: {endpoint.url}")
