from importlib import import_module

from django.apps import AppConfig

API_MODULES = (
    "accounts.api",
    "groups.api",
    "policies.api",
    "roles.api",
    "sts.api",
    "federation.api",
)


class OpenapiConfig(AppConfig):
    name = "openapi"
    verbose_name = "Alibaba-compatible signed API"

    def ready(self) -> None:
        # Each app registers its actions in its api module.
        for module in API_MODULES:
            import_module(module)
