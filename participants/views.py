from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from imports.models import ImportBatch
from participants import roles, selectors, services
from participants.forms import (
    AccessLogFilterForm,
    ChoosePasswordForm,
    EmailForm,
    NoteForm,
    ParticipantFilterForm,
)
from participants.models import Kind, Participant, PrapVersion, VersionStatus

PAGE_SIZE = 50
UNUSABLE_MESSAGES = {
    "used": "This invitation link has already been used.",
    "revoked": "This invitation link has been replaced by a newer one.",
    "expired": "This invitation link has expired.",
    "unknown": "This invitation link is not valid.",
}


def _post_only(request: HttpRequest) -> HttpResponse | None:
    # Checked after the scoping helper, so a user who may not see the record
    # gets 404 whatever the method.
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _require_create_users(request: HttpRequest) -> None:
    if request.user.kind != Kind.STAFF or not roles.can_import(request.user):
        raise Http404


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.kind != Kind.STAFF:
        return redirect("participants-me")
    return render(request, "home.html")


# --- The list ----------------------------------------------------------------


@login_required
def participant_list(request: HttpRequest) -> HttpResponse:
    if not selectors.is_participant_viewer(request.user):
        raise Http404
    form = ParticipantFilterForm(request.GET or None, programmes=selectors.programme_choices())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    participants = selectors.participant_list(
        search=filters.get("q", ""),
        status=filters.get("status", ""),
        programme=filters.get("programme", ""),
        sort=filters.get("sort") or selectors.DEFAULT_SORT,
    )
    page = Paginator(participants, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "participants/list.html",
        {"form": form, "page": page, "can_invite": roles.can_import(request.user)},
    )


@login_required
def participant_invite_selected(request: HttpRequest) -> HttpResponse:
    if not selectors.is_participant_viewer(request.user):
        raise Http404
    _require_create_users(request)
    if response := _post_only(request):
        return response
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    back = _safe_next(request, reverse("participants-list"))
    if not ids:
        messages.error(request, "Select at least one person to invite.")
        return redirect(back)
    users = [p.user for p in Participant.objects.select_related("user").filter(pk__in=ids)]
    sent, refused = services.invitations_send(
        users=users, sent_by=request.user, base_url=_base_url(request)
    )
    if sent:
        messages.success(request, f"Invitations sent: {sent}.")
    for reason in refused:
        messages.warning(request, f"Not invited: {reason}")
    return redirect(back)


@login_required
def participant_invite_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    _require_create_users(request)
    if response := _post_only(request):
        return response
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    sent = services.invitations_send_for_batch(
        batch_id=batch.pk, sent_by=request.user, base_url=_base_url(request)
    )
    if sent:
        messages.success(request, f"Invitations sent to {sent} new prospects with an email.")
    else:
        messages.info(request, "No new prospect with an email to invite from this import.")
    return redirect(_safe_next(request, reverse("participants-list")))


# --- The profile -------------------------------------------------------------


def _profile_context(request: HttpRequest, participant: Participant, tab: str) -> dict:
    return {
        "participant": participant,
        "person": participant.user,
        "tab": tab,
        "has_pending": selectors.version_has_pending(participant=participant),
        "can_history": roles.can_set_versions(request.user),
        "can_manage": roles.can_import(request.user),
    }


def _render_prap(request: HttpRequest, participant: Participant, *, revealed: bool) -> HttpResponse:
    applied = selectors.version_applied(participant=participant)
    context = _profile_context(request, participant, "prap")
    context.update(
        {
            "sections": selectors.prap_sections(applied, reveal_nino=revealed) if applied else [],
            "revealed": revealed,
            "can_reveal": roles.can_reveal_nino(request.user),
        }
    )
    return render(request, "participants/prap.html", context)


@login_required
def participant_prap(request: HttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participant_get_for_staff(user=request.user, pk=pk)
    services.access_log_record(
        user=request.user,
        participant=participant,
        action="view_prap_details",
        detail="PRaP Details",
    )
    return _render_prap(request, participant, revealed=False)


@login_required
def participant_reveal_nino(request: HttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participant_get_for_staff(user=request.user, pk=pk)
    if not roles.can_reveal_nino(request.user):
        raise Http404
    if response := _post_only(request):
        return response
    services.access_log_record(
        user=request.user,
        participant=participant,
        action="reveal_nino",
        detail="National Insurance number",
    )
    return _render_prap(request, participant, revealed=True)


def _render_account(
    request: HttpRequest, participant: Participant, form: EmailForm | None = None
) -> HttpResponse:
    context = _profile_context(request, participant, "account")
    invitations = selectors.invitations_for_user(user=participant.user)
    context.update(
        {
            "form": form or EmailForm(initial={"email": participant.user.email}, user_id=0),
            "invitations": [(inv, selectors.invitation_state(inv)) for inv in invitations],
        }
    )
    return render(request, "participants/account.html", context)


@login_required
def participant_account(request: HttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participant_get_for_staff(user=request.user, pk=pk)
    return _render_account(request, participant)


@login_required
def participant_email(request: HttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participant_get_for_staff(user=request.user, pk=pk)
    _require_create_users(request)
    if response := _post_only(request):
        return response
    form = EmailForm(request.POST, user_id=participant.user_id)
    if form.is_valid():
        try:
            services.participant_set_email(
                participant=participant, email=form.cleaned_data["email"], changed_by=request.user
            )
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            messages.success(request, "Email saved. You can now send an invitation.")
            return redirect("participants-account", pk=participant.pk)
    return _render_account(request, participant, form)


@login_required
def participant_invite(request: HttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participant_get_for_staff(user=request.user, pk=pk)
    _require_create_users(request)
    if response := _post_only(request):
        return response
    try:
        invitation = services.invitation_send(
            user=participant.user, sent_by=request.user, base_url=_base_url(request)
        )
    except services.InvitationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation sent to {invitation.sent_to}.")
    return redirect("participants-account", pk=participant.pk)


# --- Version history ---------------------------------------------------------


def _version_context(
    request: HttpRequest, pk: int, number: int, panel: str
) -> tuple[Participant, PrapVersion, dict]:
    participant = selectors.participant_get_for_history(user=request.user, pk=pk)
    versions = selectors.versions_for_participant(participant=participant)
    selected = next((v for v in versions if v.number == number), None)
    if selected is None:
        raise Http404
    applied = next((v for v in versions if v.status == VersionStatus.APPLIED), None)
    context = _profile_context(request, participant, "versions")
    context.update(
        {
            "versions": versions,
            "selected": selected,
            "applied": applied,
            "panel": panel,
            "has_pending": any(v.status == VersionStatus.PENDING for v in versions),
        }
    )
    return participant, selected, context


@login_required
def version_history(request: HttpRequest, pk: int) -> HttpResponse:
    participant = selectors.participant_get_for_history(user=request.user, pk=pk)
    versions = selectors.versions_for_participant(participant=participant)
    if not versions:
        raise Http404
    chosen = next((v for v in versions if v.status == VersionStatus.PENDING), None) or next(
        (v for v in versions if v.status == VersionStatus.APPLIED), versions[0]
    )
    return redirect("participants-version", pk=participant.pk, number=chosen.number)


@login_required
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    participant, selected, context = _version_context(request, pk, number, "details")
    services.access_log_record(
        user=request.user,
        participant=participant,
        action="view_prap_version",
        detail=f"Version {selected.number}",
    )
    context["sections"] = selectors.prap_sections(selected, compare_to=context["applied"])
    return render(request, "participants/versions.html", context)


@login_required
def version_notes(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    participant, selected, context = _version_context(request, pk, number, "notes")
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.note_create(version=selected, author=request.user, text=form.cleaned_data["text"])
        messages.success(request, "Note added.")
        return redirect("participants-version-notes", pk=participant.pk, number=selected.number)
    notes = selectors.version_notes(version=selected)
    context.update(
        {
            "form": form,
            "notes": [(n, selectors.note_can_change(user=request.user, note=n)) for n in notes],
        }
    )
    return render(request, "participants/versions.html", context)


@login_required
def note_edit(request: HttpRequest, pk: int, number: int, note_id: int) -> HttpResponse:
    participant, selected, context = _version_context(request, pk, number, "notes")
    note = selectors.note_get_for_change(user=request.user, version=selected, note_id=note_id)
    form = NoteForm(request.POST or None, initial={"text": note.text})
    if request.method == "POST" and form.is_valid():
        services.note_update(note=note, user=request.user, text=form.cleaned_data["text"])
        messages.success(request, "Note saved.")
        return redirect("participants-version-notes", pk=participant.pk, number=selected.number)
    context.update({"form": form, "note": note})
    return render(request, "participants/note_edit.html", context)


@login_required
def note_delete(request: HttpRequest, pk: int, number: int, note_id: int) -> HttpResponse:
    participant, selected, _ = _version_context(request, pk, number, "notes")
    note = selectors.note_get_for_change(user=request.user, version=selected, note_id=note_id)
    if response := _post_only(request):
        return response
    services.note_delete(note=note, user=request.user)
    messages.success(request, "Note deleted.")
    return redirect("participants-version-notes", pk=participant.pk, number=selected.number)


@login_required
def version_audit(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    _, selected, context = _version_context(request, pk, number, "history")
    context["events"] = selectors.version_events(version=selected)
    return render(request, "participants/versions.html", context)


def _decide(request: HttpRequest, pk: int, number: int, *, apply: bool) -> HttpResponse:
    participant, selected, _ = _version_context(request, pk, number, "details")
    if response := _post_only(request):
        return response
    try:
        if apply:
            services.version_apply(version=selected, user=request.user)
            messages.success(request, f"Version {selected.number} is now the applied version.")
        else:
            services.version_retain(version=selected, user=request.user)
            messages.success(
                request, f"Version {selected.number} retained; the applied version is unchanged."
            )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("participants-version", pk=participant.pk, number=selected.number)


@login_required
def version_apply(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _decide(request, pk, number, apply=True)


@login_required
def version_retain(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return _decide(request, pk, number, apply=False)


# --- Requires attention ------------------------------------------------------


@login_required
def requires_attention(request: HttpRequest) -> HttpResponse:
    if not selectors.is_participant_viewer(request.user) or not roles.can_set_versions(
        request.user
    ):
        raise Http404
    page = Paginator(selectors.requires_attention_list(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = selectors.requires_attention_rows(page.object_list)
    return render(request, "participants/attention.html", {"page": page, "rows": rows})


# --- The access log ----------------------------------------------------------


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    if not selectors.can_read_access_log(request.user):
        raise Http404
    form = AccessLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = selectors.access_log_list(
        user=filters.get("user", ""),
        action=filters.get("action", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        participant=filters.get("participant", ""),
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "participants/access_log.html",
        {
            "form": form,
            "page": page,
            "rows": [(e, selectors.ACCESS_ACTIONS.get(e.action, e.action)) for e in page],
            "query": query.urlencode(),
        },
    )


# --- The learner's own details -----------------------------------------------


@login_required
def my_details(request: HttpRequest) -> HttpResponse:
    participant = selectors.participant_get_own(user=request.user)
    applied = selectors.version_applied(participant=participant)
    services.access_log_record(
        user=request.user, participant=participant, action="view_own_details", detail="My details"
    )
    return render(
        request,
        "participants/me.html",
        {
            "participant": participant,
            "person": participant.user,
            "sections": selectors.prap_sections(applied) if applied else [],
        },
    )


# --- Accepting an invitation -------------------------------------------------


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_get_by_token(token=token)
    state = selectors.invitation_state(invitation) if invitation else "unknown"
    if state != "open":
        return render(
            request,
            "participants/invitation_unusable.html",
            {"message": UNUSABLE_MESSAGES[state]},
            status=404 if state == "unknown" else 410,
        )
    form = ChoosePasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except services.InvitationUnusable as exc:
            return render(
                request,
                "participants/invitation_unusable.html",
                {"message": UNUSABLE_MESSAGES[exc.state]},
                status=410,
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, f"Your password is set. Next time, sign in with the username {user.username}."
        )
        return redirect("participants-me")
    return render(
        request,
        "participants/accept_invitation.html",
        {"form": form, "first_name": invitation.user.first_name},
    )
