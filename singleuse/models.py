"""The durable record that an item (a signature nonce, an OIDC token, a SAML assertion) was used.

Security state, not a cache: a row lives until its item can no longer be presented (its
validity window), is shared by every node through the database, survives restarts, and is
removed only by the worker's purge after it expired.
"""

from django.db import models


class UsedItem(models.Model):
    # SHA-256 (hex) of kind, scope and item: fixed width, and the item itself (a nonce, a token)
    # is never stored.
    digest = models.CharField(max_length=64, primary_key=True)
    kind = models.CharField(max_length=16)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "used item"

    def __str__(self) -> str:
        return f"{self.kind} {self.digest[:12]}… until {self.expires_at:%Y-%m-%dT%H:%M:%SZ}"
