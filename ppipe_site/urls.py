from django.contrib import admin
from django.urls import include, path

from ppipe_site.health import healthz

admin.site.site_header = "ppipe"
admin.site.site_title = "ppipe admin"
admin.site.index_title = "Challenges, releases and judging"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("ppipe_site.api_urls")),
]
