from django.contrib import admin
from import_export import resources
from import_export.admin import ExportMixin

from .models import BatchFile, ImportBatch, RowIssue, StagedRow


class ImportBatchResource(resources.ModelResource):
    class Meta:
        model = ImportBatch
        fields = (
            "id", "file_name", "uploaded_by__username", "created_at", "status", "update_by_nino",
            "update_by_email", "create_new", "total_rows", "accepted_count", "rejected_count",
            "created_count", "updated_count", "pending_count", "unchanged_count", "committed_at",
        )  # fmt: skip


class BatchFileInline(admin.TabularInline):
    model = BatchFile
    fields = ("path", "row_count", "rejected", "encoding", "delimiter", "errors", "warnings")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ImportBatch)
class ImportBatchAdmin(ExportMixin, admin.ModelAdmin):
    resource_classes = [ImportBatchResource]
    list_display = (
        "file_name",
        "uploaded_by",
        "created_at",
        "status",
        "accepted_count",
        "rejected_count",
    )
    list_filter = ("status",)
    list_select_related = ("uploaded_by",)
    raw_id_fields = ("uploaded_by", "committed_by")
    inlines = [BatchFileInline]


@admin.register(StagedRow)
class StagedRowAdmin(admin.ModelAdmin):
    list_display = ("batch", "file", "line", "po_number", "status", "action", "outcome__result")
    list_filter = ("status", "action", "outcome__result")
    list_select_related = ("batch", "file", "outcome")
    raw_id_fields = ("batch", "file", "matched_participant")


@admin.register(RowIssue)
class RowIssueAdmin(admin.ModelAdmin):
    list_display = ("batch", "row", "severity", "code", "column")
    list_filter = ("severity", "code")
    raw_id_fields = ("batch", "row")
