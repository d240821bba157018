from django.urls import path

from housekeeping import views

app_name = "housekeeping"
urlpatterns = [path("worker/", views.worker_health, name="worker_health")]
