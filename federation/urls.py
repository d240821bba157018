from django.urls import path

from federation import provider_views, role_sso, views

app_name = "federation"
urlpatterns = [
    path("sso/", views.sso_settings, name="sso_settings"),
    path("identity-providers/", provider_views.provider_list, name="provider_list"),
    path("identity-providers/saml/new", provider_views.saml_create, name="saml_create"),
    path("identity-providers/oidc/new", provider_views.oidc_create, name="oidc_create"),
    path(
        "identity-providers/<str:kind>/<str:name>/delete",
        provider_views.provider_delete,
        name="provider_delete",
    ),
    path("sso/start", views.sso_start, name="sso_start"),
    path("sso/saml-role", role_sso.role_acs, name="role_acs"),
    path("sso/saml-role/metadata", views.role_sp_metadata, name="role_sp_metadata"),
    path("sso/saml-role/choose", role_sso.role_choose, name="role_choose"),
    path("sso/saml/<str:account_uid>", views.assertion_consumer, name="acs"),
    path("sso/saml/<str:account_uid>/metadata", views.sp_metadata, name="sp_metadata"),
]
