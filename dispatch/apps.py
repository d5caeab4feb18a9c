from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
    verbose_name = "Data releases"

    def ready(self) -> None:
        from challenges.sections import section_register
        from dispatch import receivers  # noqa: F401  (plans releases on publish and enrolment)
        from dispatch.challenge_section import RELEASE_PLAN_SECTION

        section_register(RELEASE_PLAN_SECTION)
