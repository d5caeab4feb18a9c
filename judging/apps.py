from django.apps import AppConfig


class JudgingConfig(AppConfig):
    name = "judging"
    verbose_name = "Judging"

    def ready(self) -> None:
        # Connects the services' signals (judging/signals.py) to the tasks that send
        # the work: the services never import their tasks.
        from challenges.sections import section_register
        from judging import tasks  # noqa: F401
        from judging.challenge_section import JUDGING_SECTION

        section_register(JUDGING_SECTION)
