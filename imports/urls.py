from django.urls import path

from . import views

urlpatterns = [
    path("", views.upload, name="imports-upload"),
    path("history/", views.history, name="imports-history"),
    path("<int:pk>/", views.batch, name="imports-batch"),
    path("<int:pk>/progress/", views.progress, name="imports-progress"),
    path("<int:pk>/commit/", views.commit, name="imports-commit"),
    path("<int:pk>/errors.csv", views.errors_csv, name="imports-errors-csv"),
    path("<int:pk>/imported.csv", views.successes_csv, name="imports-successes-csv"),
]
