"""AccessKey storage, lifecycle rules and the key management commands."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from accounts.access_keys import access_key_create, access_key_secret
from accounts.crypto import SecretUnavailable, decrypt, encrypt
from accounts.errors import Conflict, InvalidParameter, NoPermission
from accounts.models import AccessKey, User
from accounts.preferences import security_preference_set
from tests.conftest import principal_for

pytestmark = pytest.mark.django_db


def programmatic(tenant, name="robot", *policies):
    user = tenant.make_user(name, *policies, console=False)
    User.objects.filter(pk=user.pk).update(programmatic_access=True)
    return User.objects.get(pk=user.pk)


def test_secret_is_stored_sealed_and_bound_to_its_key_id(tenant):
    robot = programmatic(tenant)
    key, secret = access_key_create(actor=tenant.root_principal, user=robot)
    assert secret not in key.secret_sealed and key.secret_sealed.startswith("aesgcm1:")
    assert access_key_secret(key) == secret
    with pytest.raises(SecretUnavailable):
        decrypt(key.secret_sealed, context="LTAIsomeotherkeyid000000")


def test_console_only_users_get_no_keys_and_two_at_most(tenant):
    person = tenant.make_user("person")
    with pytest.raises(InvalidParameter, match="no programmatic access"):
        access_key_create(actor=tenant.root_principal, user=person)
    robot = programmatic(tenant)
    access_key_create(actor=tenant.root_principal, user=robot)
    access_key_create(actor=tenant.root_principal, user=robot)
    with pytest.raises(Conflict) as info:
        access_key_create(actor=tenant.root_principal, user=robot)
    assert info.value.code == "LimitExceeded.User.AccessKey"
    assert AccessKey.objects.filter(user=robot).count() == 2


def test_self_management_follows_the_security_preference(tenant):
    robot = programmatic(tenant)
    with pytest.raises(NoPermission):
        access_key_create(actor=principal_for(robot), user=robot)
    security_preference_set(actor=tenant.root_principal, allow_user_to_manage_access_keys=True)
    access_key_create(actor=principal_for(robot), user=robot)
    other = programmatic(tenant, "other")
    with pytest.raises(NoPermission):
        access_key_create(actor=principal_for(robot), user=other)


def test_createaccesskey_command(tenant):
    programmatic(tenant)
    out = io.StringIO()
    call_command("createaccesskey", "robot@acme.iam.localhost", "--json", stdout=out)
    pair = json.loads(out.getvalue())
    assert set(pair) == {"AccessKeyId", "AccessKeySecret"}
    key = AccessKey.objects.get(access_key_id=pair["AccessKeyId"])
    assert access_key_secret(key) == pair["AccessKeySecret"]
    out = io.StringIO()
    call_command("createaccesskey", "root@acme.example", "--json", stdout=out)
    assert AccessKey.objects.filter(user=tenant.root).count() == 1
    with pytest.raises(CommandError, match="No identity"):
        call_command("createaccesskey", "ghost@acme.iam.localhost", "--json")


def test_rotateencryptionkeys_reseals_with_the_newest_key(tenant):
    robot = programmatic(tenant)
    with override_settings(IAM_ENCRYPTION_KEYS=["old-key-material"]):
        key, secret = access_key_create(actor=tenant.root_principal, user=robot)
    with override_settings(IAM_ENCRYPTION_KEYS=["new-key-material", "old-key-material"]):
        assert access_key_secret(AccessKey.objects.get(pk=key.pk)) == secret
        out = io.StringIO()
        call_command("rotateencryptionkeys", stdout=out)
        assert "Re-encrypted 1 secret" in out.getvalue()
        call_command("rotateencryptionkeys", stdout=out)
    with override_settings(IAM_ENCRYPTION_KEYS=["new-key-material"]):
        assert access_key_secret(AccessKey.objects.get(pk=key.pk)) == secret


def test_tampered_ciphertext_is_refused():
    sealed = encrypt("s3cret", context="LTAIx")
    prefix, key_id, payload = sealed.split(":")
    flipped = payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    with pytest.raises(SecretUnavailable):
        decrypt(f"{prefix}:{key_id}:{flipped}", context="LTAIx")
