"""The REST API's paths (../shared/API.md): keep them stable, extend freely."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from challenges import api as challenges
from dispatch import api as dispatch
from foundation.login_lockout import TokenView
from grades import api as grades
from judging import api as judging
from judging import kit_views
from notifications import api as notifications
from probing import api as probing
from receipts import api as receipts
from teams import api as teams

urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("challenges/", challenges.ChallengeListView.as_view(), name="api-challenges"),
    path("challenges/<slug:slug>/", challenges.ChallengeDetailView.as_view(), name="api-challenge"),
    path("challenges/<slug:slug>/publish/", challenges.ChallengePublishView.as_view()),
    path("challenges/<slug:slug>/releases/", dispatch.ReleaseListView.as_view()),
    path("challenges/<slug:slug>/data/", dispatch.ChallengeDataView.as_view()),
    path(
        "challenges/<slug:slug>/releases/<int:sequence>/download/",
        dispatch.ReleaseDownloadView.as_view(),
        name="api-release-download",
    ),
    path("challenges/<slug:slug>/join/", challenges.ChallengeJoinView.as_view()),
    path("challenges/<slug:slug>/kit/", kit_views.StartingKitView.as_view(), name="api-kit"),
    path("challenges/<slug:slug>/team/", teams.MyTeamView.as_view(), name="api-my-team"),
    path("challenges/<slug:slug>/teams/", teams.TeamCreateView.as_view(), name="api-teams"),
    path("challenges/<slug:slug>/team/join/", teams.TeamJoinView.as_view()),
    path("challenges/<slug:slug>/team/leave/", teams.TeamLeaveView.as_view()),
    path(
        "challenges/<slug:slug>/submissions/",
        judging.SubmissionCreateView.as_view(),
        name="api-submission-create",
    ),
    path("challenges/<slug:slug>/leaderboard/", judging.LeaderboardView.as_view()),
    path("challenges/<slug:slug>/shared/", judging.SharedSubmissionsView.as_view()),
    path("challenges/<slug:slug>/endpoints/", probing.EndpointRegisterView.as_view()),
    path("endpoints/<int:endpoint_id>/", probing.EndpointDetailView.as_view()),
    path("endpoints/<int:endpoint_id>/check/", probing.EndpointCheckView.as_view()),
    path("challenges/<slug:slug>/questions/", receipts.QuestionListView.as_view()),
    path("challenges/<slug:slug>/grades/", grades.GradesView.as_view(), name="api-grades"),
    path("questions/<int:question_id>/answer/", receipts.QuestionAnswerView.as_view()),
    path("destinations/", dispatch.DestinationListView.as_view(), name="api-destinations"),
    path("submissions/", judging.SubmissionListView.as_view(), name="api-submissions"),
    path("submissions/<int:submission_id>/", judging.SubmissionDetailView.as_view()),
    path("submissions/<int:submission_id>/code/", judging.SubmissionCodeView.as_view()),
    path("submissions/<int:submission_id>/cancel/", judging.SubmissionCancelView.as_view()),
    path("submissions/<int:submission_id>/select/", judging.SubmissionSelectView.as_view()),
    path("submissions/<int:submission_id>/unselect/", judging.SubmissionUnselectView.as_view()),
    path("submissions/<int:submission_id>/reproduce/", judging.SubmissionReproduceView.as_view()),
    path("submissions/<int:submission_id>/fork/", judging.SubmissionForkView.as_view()),
    path("reproductions/<int:reproduction_id>/", judging.ReproductionDetailView.as_view()),
    path(
        "notifications/preferences/",
        notifications.PreferencesView.as_view(),
        name="api-notification-preferences",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
