from django.apps import AppConfig


class ReceiptsConfig(AppConfig):
    name = "receipts"
    verbose_name = "Proof of receipt"

    def ready(self) -> None:
        from challenges.sections import section_register
        from receipts.challenge_section import RECEIPT_SECTION

        section_register(RECEIPT_SECTION)
