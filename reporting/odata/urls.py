from django.urls import path

from reporting.odata import views

urlpatterns = [
    path("", views.service_document, name="reporting-odata-root"),
    path("$metadata", views.metadata, name="reporting-odata-metadata"),
    path("<str:name>/$count", views.entity_set_count, name="reporting-odata-count"),
    path("<str:name>", views.entity_set, name="reporting-odata-set"),
]
