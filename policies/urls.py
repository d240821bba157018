from django.urls import path

from policies import views

app_name = "policies"
urlpatterns = [
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new", views.policy_create, name="policy_create"),
    path("policies/<str:policy_type>/<str:name>/", views.policy_detail, name="policy_detail"),
    path(
        "policies/Custom/<str:name>/description",
        views.policy_description,
        name="policy_description",
    ),
    path("policies/Custom/<str:name>/versions/new", views.version_create, name="version_create"),
    path(
        "policies/Custom/<str:name>/versions/<str:version_id>/default",
        views.version_set_default,
        name="version_set_default",
    ),
    path(
        "policies/Custom/<str:name>/versions/<str:version_id>/delete",
        views.version_delete,
        name="version_delete",
    ),
    path("policies/Custom/<str:name>/delete", views.policy_delete, name="policy_delete"),
    path("<str:kind>/<str:name>/policies/attach", views.attach, name="attach"),
    path(
        "<str:kind>/<str:name>/policies/<str:policy_type>/<str:policy_name>/detach",
        views.detach,
        name="detach",
    ),
    path("users/<str:name>/permissions", views.effective_permissions, name="effective"),
    path("roles/<str:name>/permissions", views.role_effective_permissions, name="role_effective"),
    path("simulator/", views.simulator, name="simulator"),
]
