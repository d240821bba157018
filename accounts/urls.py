from django.urls import path

from accounts import key_views, login_views, mfa_views, rotation_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("login", login_views.login_view, name="login"),
    path("login/mfa", login_views.login_mfa, name="login_mfa"),
    path("logout", login_views.logout_view, name="logout"),
    path("mfa/enroll", mfa_views.enroll, name="mfa_enroll"),
    path("credentials/mfa", mfa_views.my_mfa, name="my_mfa"),
    path("credentials/mfa/recovery-codes", mfa_views.regenerate_codes, name="mfa_codes"),
    path("credentials/mfa/remove", mfa_views.remove_own, name="mfa_remove"),
    path("credentials/mfa/forget-devices", mfa_views.forget_devices, name="mfa_forget"),
    path("users/<str:name>/mfa/unbind", mfa_views.unbind_user, name="mfa_unbind"),
    path("password", views.password_change, name="password_change"),
    path("welcome", views.welcome, name="welcome"),
    path("reauth", key_views.reauthenticate, name="reauth"),
    path("credentials/", key_views.my_credentials, name="my_credentials"),
    path("credentials/access-keys/new", key_views.key_create, name="my_key_create"),
    path("credentials/access-keys/<str:key_id>/status", key_views.key_status, name="my_key_status"),
    path("credentials/access-keys/<str:key_id>/delete", key_views.key_delete, name="my_key_delete"),
    path("users/<str:name>/access-keys/new", key_views.key_create, name="key_create"),
    path(
        "users/<str:name>/access-keys/<str:key_id>/status", key_views.key_status, name="key_status"
    ),
    path(
        "users/<str:name>/access-keys/<str:key_id>/delete", key_views.key_delete, name="key_delete"
    ),
    path("security/", views.security_settings, name="security"),
    path("security/preference", views.security_preference, name="security_preference"),
    path("security/alias", views.account_alias, name="account_alias"),
    path("security/key-rotation", rotation_views.key_rotation, name="key_rotation"),
    path(
        "users/<str:name>/access-keys/<str:key_id>/rotate",
        rotation_views.key_rotate,
        name="key_rotate",
    ),
    path(
        "users/<str:name>/access-keys/<str:key_id>/exempt",
        rotation_views.key_exempt,
        name="key_exempt",
    ),
    path(
        "credentials/access-keys/<str:key_id>/rotate",
        rotation_views.key_rotate,
        name="my_key_rotate",
    ),
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
