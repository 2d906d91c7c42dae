from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from participants import views as participant_views
from prap_portal.login import ThrottledAdminAuthenticationForm, ThrottledLoginView

# The admin has its own sign-in page: it is throttled the same way.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("", participant_views.home, name="home"),
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("imports/", include("imports.urls")),
    path("participants/", include("participants.urls")),
    path("odata/", include("reporting.odata.urls")),
    path("reports/", include("reporting.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
