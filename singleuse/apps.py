from django.apps import AppConfig


class SingleUseConfig(AppConfig):
    name = "singleuse"
    verbose_name = "Single-use records"
    default_auto_field = "django.db.models.BigAutoField"
