"""Teams in the admin: each with its members and its membership log; the teacher
moves a participant into a team (from theirs, if any) or takes members out,
through the services, so the change is checked (size, picks, the close) and
logged with the teacher's name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from challenges.admin import ParticipantAdmin
from challenges.models import Participant
from challenges.selectors import challenges_owned_by
from foundation.admin_helpers import TeacherEditsOnlyAdmin
from teams.models import Team, TeamEvent
from teams.services import TeamRefused, team_member_move, team_member_remove


class MemberInline(admin.TabularInline):
    model = Participant
    fk_name = "team"
    fields = ("user", "joined_at")
    readonly_fields = ("user", "joined_at")
    extra = 0
    can_delete = False
    verbose_name = "member"
    verbose_name_plural = "members (take one out with the field above)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TeamEventInline(admin.TabularInline):
    model = TeamEvent
    fields = ("at", "participant", "action", "by", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "membership log"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TeamForm(forms.ModelForm):
    move_in = forms.ModelChoiceField(
        queryset=Participant.objects.none(),
        required=False,
        label="Move into this team",
        help_text="A participant of the challenge, taken out of their team if they have one.",
    )
    take_out = forms.ModelMultipleChoiceField(
        queryset=Participant.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Take out of this team",
    )

    class Meta:
        model = Team
        fields = ("challenge", "name")


@admin.register(Team)
class TeamAdmin(TeacherEditsOnlyAdmin):
    form = TeamForm
    teacher_editable = ("challenge", "name")
    list_display = ("name", "challenge", "member_names", "created_at")
    # Related-only: never another teacher's challenge names (see ParticipantAdmin).
    list_filter = (("challenge", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "members__user__username")
    readonly_fields = ("join_code", "created_at")
    inlines = [MemberInline, TeamEventInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            Team.objects.filter(challenge__in=challenges_owned_by(request.user))
            .select_related("challenge")
            .prefetch_related("members__user")
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Team | None = None) -> Any:
        # A team stays in its challenge: its members are that challenge's participants.
        readonly = super().get_readonly_fields(request, obj)
        return (*readonly, "challenge") if obj else readonly

    def get_form(
        self, request: HttpRequest, obj: Team | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "challenge" in form.base_fields:
            form.base_fields["challenge"].queryset = challenges_owned_by(request.user)  # type: ignore[attr-defined]
        if obj is None:
            form.base_fields.pop("move_in", None)
            form.base_fields.pop("take_out", None)
            return form
        people = Participant.objects.filter(challenge=obj.challenge).select_related("user", "team")
        form.base_fields["move_in"].queryset = people.exclude(team=obj).order_by("user__username")  # type: ignore[attr-defined]
        form.base_fields["take_out"].queryset = people.filter(team=obj).order_by("user__username")  # type: ignore[attr-defined]
        return form

    @admin.display(description="members")
    def member_names(self, obj: Team) -> str:
        return ", ".join(sorted(str(member.user) for member in obj.members.all()))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        team, by = form.instance, request.user.get_username()
        changes = [(member, None) for member in form.cleaned_data.get("take_out") or []]
        if form.cleaned_data.get("move_in"):
            changes.append((form.cleaned_data["move_in"], team))
        for participant, to in changes:
            try:
                team_member_move(participant=participant, to=to, by=by)
            except TeamRefused as error:
                messages.error(request, f"{participant.user}: {error}")
            else:
                where = f"moved into '{team.name}'" if to else f"taken out of '{team.name}'"
                messages.success(request, f"{participant.user} {where}.")


@admin.action(description="Take the selected participants out of their team")
def remove_from_team(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Participant]
) -> None:
    if not request.user.has_perm("teams.change_team"):
        messages.error(request, "You may not change teams.")
        return
    by = request.user.get_username()
    for participant in queryset.filter(team__isnull=False).select_related("user", "team"):
        try:
            team_member_remove(participant=participant, by=by)
        except TeamRefused as error:
            messages.error(request, f"{participant.user}: {error}")
        else:
            messages.success(request, f"{participant.user} taken out of '{participant.team}'.")


# The participants' list is challenges/' own; it gets its team action here, so
# challenges/ needs to know nothing of teams.
admin.site.unregister(Participant)


@admin.register(Participant)
class ParticipantWithTeamAdmin(ParticipantAdmin):
    actions = [remove_from_team]
