from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("login", views.login_view, name="login"),
    path("logout", views.logout_view, name="logout"),
    path("password", views.password_change, name="password_change"),
    path("welcome", views.welcome, name="welcome"),
    path("security/", views.security_settings, name="security"),
    path("users/", views.user_list, name="user_list"),
    path("users/new", views.user_create, name="user_create"),
    path("users/<str:name>/", views.user_detail, name="user_detail"),
    path("users/<str:name>/edit", views.user_edit, name="user_edit"),
    path("users/<str:name>/delete", views.user_delete, name="user_delete"),
    path("users/<str:name>/login-profile", views.login_profile, name="login_profile"),
    path(
        "users/<str:name>/login-profile/delete",
        views.login_profile_delete,
        name="login_profile_delete",
    ),
]
