from django.urls import path

from reporting import views

urlpatterns = [
    path("", views.builder, name="reporting-builder"),
    path("export.csv", views.export_csv, name="reporting-export-csv"),
    path("export.xlsx", views.export_xlsx, name="reporting-export-xlsx"),
    path("save/", views.save, name="reporting-save"),
    path("saved/", views.saved_list, name="reporting-saved"),
    path("saved/<int:pk>/", views.run, name="reporting-run"),
    path("saved/<int:pk>/share/", views.share, name="reporting-share"),
    path("saved/<int:pk>/delete/", views.delete, name="reporting-delete"),
    path("feed-tokens/", views.tokens, name="reporting-tokens"),
    path("feed-tokens/<int:pk>/revoke/", views.token_revoke, name="reporting-token-revoke"),
]
