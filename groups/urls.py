from django.urls import path

from groups import views

app_name = "groups"
urlpatterns = [
    path("groups/", views.group_list, name="group_list"),
    path("groups/new", views.group_create, name="group_create"),
    path("groups/<str:name>/", views.group_detail, name="group_detail"),
    path("groups/<str:name>/edit", views.group_edit, name="group_edit"),
    path("groups/<str:name>/delete", views.group_delete, name="group_delete"),
    path("groups/<str:name>/members/add", views.member_add, name="member_add"),
    path(
        "groups/<str:name>/members/<str:user_name>/remove",
        views.member_remove,
        name="member_remove",
    ),
    path("users/<str:name>/groups/add", views.user_join_group, name="user_join_group"),
]
