from django.contrib import admin
from django.urls import include, path

from challenges import views as challenge_views
from dispatch import views as dispatch_views
from judging import kit_views
from judging import views as judging_views
from notifications import views as notifications_views
from ppipe_site import student_pages
from ppipe_site.health import healthz
from ppipe_site.operations_view import operations_page
from ppipe_site.prometheus import metrics_view
from probing import views as probing_views
from receipts import views as receipts_views
from teams import views as team_views

admin.site.site_header = "ppipe"
admin.site.site_title = "ppipe admin"
admin.site.index_title = "Challenges, releases and judging"

urlpatterns = [
    path("", challenge_views.home, name="home"),
    path("signup/", challenge_views.signup, name="signup"),
    path("join/", challenge_views.join_with_code, name="join"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("challenges/<slug:slug>/", student_pages.challenge_page, name="challenge"),
    path(
        "challenges/<slug:slug>/my-submissions/",
        judging_views.my_submissions_fragment,
        name="my-submissions",
    ),
    path("challenges/<slug:slug>/kit/", kit_views.starting_kit_download, name="starting-kit"),
    path("challenges/<slug:slug>/leaderboard/", judging_views.leaderboard_page, name="leaderboard"),
    path(
        "challenges/<slug:slug>/leaderboard/live/",
        judging_views.leaderboard_fragment,
        name="leaderboard-live",
    ),
    path("challenges/<slug:slug>/shared/", judging_views.shared_code_page, name="shared-code"),
    path("challenges/<slug:slug>/data/", dispatch_views.data_section_fragment, name="data-section"),
    path(
        "challenges/<slug:slug>/releases/<int:sequence>/download/",
        dispatch_views.release_download_view,
        name="release-download",
    ),
    path("challenges/<slug:slug>/team/create/", team_views.team_create_view, name="team-create"),
    path("challenges/<slug:slug>/team/join/", team_views.team_join_view, name="team-join"),
    path("challenges/<slug:slug>/team/leave/", team_views.team_leave_view, name="team-leave"),
    path("submissions/<int:submission_id>/", judging_views.submission_page, name="submission"),
    path(
        "submissions/<int:submission_id>/live/",
        judging_views.submission_fragment,
        name="submission-live",
    ),
    path(
        "submissions/<int:submission_id>/cancel/",
        judging_views.submission_cancel_view,
        name="submission-cancel",
    ),
    path(
        "submissions/<int:submission_id>/fork/",
        judging_views.submission_fork_view,
        name="submission-fork",
    ),
    path(
        "submissions/<int:submission_id>/select/",
        judging_views.submission_select_view,
        name="submission-select",
    ),
    path(
        "submissions/<int:submission_id>/unselect/",
        judging_views.submission_unselect_view,
        name="submission-unselect",
    ),
    path(
        "challenges/<slug:slug>/endpoint/",
        probing_views.endpoint_register_view,
        name="endpoint-register",
    ),
    path("endpoints/<int:endpoint_id>/", probing_views.endpoint_page, name="endpoint"),
    path(
        "endpoints/<int:endpoint_id>/live/", probing_views.endpoint_fragment, name="endpoint-live"
    ),
    path(
        "endpoints/<int:endpoint_id>/check/",
        probing_views.endpoint_check_view,
        name="endpoint-check",
    ),
    path(
        "questions/<int:question_id>/answer/",
        receipts_views.question_answer_view,
        name="question-answer",
    ),
    path(
        "notifications/",
        notifications_views.preferences_page,
        name="notification-preferences",
    ),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/operations/", admin.site.admin_view(operations_page), name="operations"),
    path("admin/", admin.site.urls),
    path("api/", include("ppipe_site.api_urls")),
]
