from django.apps import AppConfig


class PpipeSiteConfig(AppConfig):
    name = "ppipe_site"
    verbose_name = "ppipe platform"
