from django.urls import path

from roles import switch_views, views

app_name = "roles"
urlpatterns = [
    path("roles/", views.role_list, name="role_list"),
    path("switch-role", switch_views.switch_role, name="switch_role"),
    path("switch-role/back", switch_views.switch_back, name="switch_back"),
    path("roles/new", views.role_create, name="role_create"),
    path("roles/<str:name>/", views.role_detail, name="role_detail"),
    path("roles/<str:name>/edit", views.role_edit, name="role_edit"),
    path("roles/<str:name>/delete", views.role_delete, name="role_delete"),
    path(
        "roles/<str:name>/sessions/revoke-all",
        views.sessions_revoke_all,
        name="sessions_revoke_all",
    ),
    path(
        "roles/<str:name>/sessions/<str:key_id>/revoke", views.session_revoke, name="session_revoke"
    ),
]
