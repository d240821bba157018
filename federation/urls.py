from django.urls import path

from federation import views

app_name = "federation"
urlpatterns = [
    path("sso/", views.sso_settings, name="sso_settings"),
    path("sso/start", views.sso_start, name="sso_start"),
    path("sso/saml/<str:account_uid>", views.assertion_consumer, name="acs"),
    path("sso/saml/<str:account_uid>/metadata", views.sp_metadata, name="sp_metadata"),
]
