from django.urls import path

from . import views

urlpatterns = [
    path("", views.participant_list, name="participants-list"),
    path("invite/", views.participant_invite_selected, name="participants-invite-selected"),
    path(
        "batches/<int:batch_id>/invite/",
        views.participant_invite_batch,
        name="participants-invite-batch",
    ),
    path("attention/", views.requires_attention, name="participants-attention"),
    path("access-log/", views.access_log, name="participants-access-log"),
    path("me/", views.my_details, name="participants-me"),
    path(
        "invitation/<str:token>/",
        views.accept_invitation,
        name="participants-accept-invitation",
    ),
    path("<int:pk>/", views.participant_prap, name="participants-prap"),
    path("<int:pk>/reveal-nino/", views.participant_reveal_nino, name="participants-reveal-nino"),
    path("<int:pk>/account/", views.participant_account, name="participants-account"),
    path("<int:pk>/email/", views.participant_email, name="participants-email"),
    path("<int:pk>/invite/", views.participant_invite, name="participants-invite"),
    path("<int:pk>/versions/", views.version_history, name="participants-versions"),
    path("<int:pk>/versions/<int:number>/", views.version_detail, name="participants-version"),
    path(
        "<int:pk>/versions/<int:number>/notes/",
        views.version_notes,
        name="participants-version-notes",
    ),
    path(
        "<int:pk>/versions/<int:number>/notes/<int:note_id>/edit/",
        views.note_edit,
        name="participants-note-edit",
    ),
    path(
        "<int:pk>/versions/<int:number>/notes/<int:note_id>/delete/",
        views.note_delete,
        name="participants-note-delete",
    ),
    path(
        "<int:pk>/versions/<int:number>/history/",
        views.version_audit,
        name="participants-version-history",
    ),
    path(
        "<int:pk>/versions/<int:number>/apply/",
        views.version_apply,
        name="participants-version-apply",
    ),
    path(
        "<int:pk>/versions/<int:number>/retain/",
        views.version_retain,
        name="participants-version-retain",
    ),
]
