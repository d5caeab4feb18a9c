from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Artifact retention"

    def ready(self) -> None:
        from challenges.sections import section_register
        from retention.challenge_section import RETENTION_SECTION

        section_register(RETENTION_SECTION)
