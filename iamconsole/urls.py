from django.urls import include, path

from iamconsole.health import healthz
from openapi.views import endpoint

urlpatterns = [
    path("", endpoint),  # the signed API (Action/x-acs-action); browsers go to /console/
    path("healthz", healthz),
    path("", include("resource_services.urls")),
    path("console/", include("accounts.urls")),
    path("console/", include("groups.urls")),
    path("console/", include("policies.urls")),
    path("console/", include("roles.urls")),
    path("console/audit/", include("audit.urls")),
    path("console/", include("housekeeping.urls")),
    path("console/", include("federation.urls")),
]
