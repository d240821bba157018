from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and RAM users"

    def ready(self) -> None:
        # name__lower=... compiles to LOWER(name) = %s, which the case-insensitive unique
        # indexes (UniqueConstraint on Lower("name")) serve; name__iexact would scan.
        from django.db.models import CharField
        from django.db.models.functions import Lower

        CharField.register_lookup(Lower)
