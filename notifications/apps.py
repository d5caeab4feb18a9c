from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Listens to what judging and dispatch announce, and to its own recorded
        # mails (notifications/signals.py): no service imports a task.
        from notifications import tasks  # noqa: F401
