from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("console/", include("accounts.urls")),
    path("console/", include("groups.urls")),
    path("console/", include("policies.urls")),
    path("console/audit/", include("audit.urls")),
]
