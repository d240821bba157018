"""Re-seal stored secrets with the newest encryption key, in batches, row by row."""

from __future__ import annotations

from django.db import transaction

from accounts.crypto import decrypt, encrypt, sealed_with_newest
from accounts.models import AccessKey
from audit.services import event_record


def reseal_all(*, batch_size: int = 500) -> tuple[int, int]:
    """Return (re-sealed, already current). Safe to run again after an interruption."""
    resealed = current = 0
    last_pk = 0
    while True:
        batch = list(
            AccessKey.objects.filter(pk__gt=last_pk)
            .order_by("pk")[:batch_size]
            .values_list("pk", flat=True)
        )
        if not batch:
            break
        last_pk = batch[-1]
        with transaction.atomic():
            for key in AccessKey.objects.select_for_update().filter(pk__in=batch):
                if sealed_with_newest(key.secret_sealed):
                    current += 1
                    continue
                secret = decrypt(key.secret_sealed, context=key.access_key_id)
                key.secret_sealed = encrypt(secret, context=key.access_key_id)
                key.save(update_fields=["secret_sealed"])
                resealed += 1
    sp_resealed, sp_current = _reseal_sp_key()
    resealed, current = resealed + sp_resealed, current + sp_current
    if resealed:
        event_record(
            action="console:RotateEncryptionKeys",
            actor_kind="operator",
            details={"resealed": resealed, "current": current},
        )
    return resealed, current


def _reseal_sp_key() -> tuple[int, int]:
    """The SAML service provider's private key (federation), if one was made."""
    from federation.models import ServiceProviderKey
    from federation.sp_keys import CONTEXT

    with transaction.atomic():
        row = ServiceProviderKey.objects.select_for_update().filter(pk=1).first()
        if row is None:
            return 0, 0
        if sealed_with_newest(row.key_sealed):
            return 0, 1
        row.key_sealed = encrypt(decrypt(row.key_sealed, context=CONTEXT), context=CONTEXT)
        row.save(update_fields=["key_sealed"])
        return 1, 0
