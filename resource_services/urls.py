from django.urls import path

from resource_services import views

app_name = "resource_services"
urlpatterns = [
    path("resource-services/2026-12-01/authorize", views.authorize_request, name="authorize"),
]
