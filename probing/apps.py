from django.apps import AppConfig


class ProbingConfig(AppConfig):
    name = "probing"
    verbose_name = "Endpoints and probes"

    def ready(self) -> None:
        from challenges.sections import section_register
        from probing.challenge_section import PROBE_SECTION

        section_register(PROBE_SECTION)
