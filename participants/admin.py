from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from import_export import fields, resources
from import_export.admin import ExportMixin, ImportExportModelAdmin

from .models import AccessLog, Invitation, Participant, PrapVersion, User, VersionEvent, VersionNote


class ParticipantResource(resources.ModelResource):
    """Admin import/export of participants, keyed on the NINO."""

    username = fields.Field(attribute="user__username", column_name="username", readonly=True)
    first_name = fields.Field(attribute="user__first_name", column_name="first_name", readonly=True)
    last_name = fields.Field(attribute="user__last_name", column_name="last_name", readonly=True)
    email = fields.Field(attribute="user__email", column_name="email", readonly=True)

    class Meta:
        model = Participant
        import_id_fields = ("nino",)
        fields = (
            "nino",
            "programme",
            "po_number",
            "username",
            "first_name",
            "last_name",
            "email",
            "created_at",
        )
        export_order = fields
        skip_unchanged = True


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "kind", "is_staff")
    list_filter = ("kind", "is_staff", "is_superuser", "groups")
    fieldsets = (*UserAdmin.fieldsets, ("PRaP Portal", {"fields": ("kind", "avatar")}))


class PrapVersionInline(admin.TabularInline):
    model = PrapVersion
    fields = ("number", "status", "batch", "first_name", "last_name", "programme", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Participant)
class ParticipantAdmin(ImportExportModelAdmin):
    resource_classes = [ParticipantResource]
    list_display = ("nino", "user", "programme", "po_number", "created_at")
    search_fields = ("nino", "po_number", "user__username", "user__email", "user__last_name")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    inlines = [PrapVersionInline]


@admin.register(PrapVersion)
class PrapVersionAdmin(ExportMixin, admin.ModelAdmin):
    list_display = ("participant", "number", "status", "batch", "created_at")
    list_filter = ("status",)
    list_select_related = ("participant__user", "batch")
    raw_id_fields = ("participant", "batch", "decided_by")
    search_fields = ("participant__nino", "po_number", "last_name")
    # The digests say what was imported; the import alone writes them.
    readonly_fields = ("data_hash", "source_hash")


@admin.register(VersionNote)
class VersionNoteAdmin(admin.ModelAdmin):
    list_display = ("version", "author", "created_at")
    raw_id_fields = ("version", "author")


@admin.register(VersionEvent)
class VersionEventAdmin(admin.ModelAdmin):
    list_display = ("version", "action", "user", "at")
    list_filter = ("action",)
    raw_id_fields = ("version", "user")


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "participant", "action", "detail")
    list_filter = ("action",)
    raw_id_fields = ("user", "participant")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("user", "sent_to", "created_at", "expires_at", "used_at", "revoked_at")
    raw_id_fields = ("user", "created_by")
    exclude = ("token_hash",)
