from django.urls import path

from audit import session_views, views

app_name = "audit"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("events/", views.event_list, name="event_list"),
    path("events/export", views.event_export, name="event_export"),
    path("events/<int:event_id>/", views.event_detail, name="event_detail"),
    path("verify", views.verify_start, name="verify_start"),
    path("retention", views.retention, name="retention"),
    path("data-events", views.data_events, name="data_events"),
    path("verify/<int:check_id>", views.verify_status, name="verify_status"),
    path("sessions/", session_views.sessions, name="sessions"),
    path(
        "sessions/console/<str:public_id>/end",
        session_views.console_session_end,
        name="console_session_end",
    ),
    path("sessions/sts/<str:key_id>/revoke", session_views.sts_session_revoke, name="sts_revoke"),
    path("users/<str:name>/lockdown", session_views.lockdown, name="lockdown"),
]
