from django.apps import AppConfig


class ResourceServicesConfig(AppConfig):
    name = "resource_services"
    verbose_name = "Resource services"
    default_auto_field = "django.db.models.BigAutoField"
