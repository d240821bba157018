"""The SAML service provider's key pair: made once, private key sealed with the installation's
encryption keys, handed to pysaml2 (which reads key files) only for the moment it signs."""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import IntegrityError, transaction

from accounts.crypto import decrypt, encrypt
from federation.models import ServiceProviderKey

CONTEXT = "saml-sp-key"


def _generate() -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iamconsole SAML service provider")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def sp_key() -> ServiceProviderKey:
    row = ServiceProviderKey.objects.filter(pk=1).first()
    if row is not None:
        return row
    cert_pem, key_pem = _generate()
    try:
        with transaction.atomic():
            return ServiceProviderKey.objects.create(
                pk=1, cert_pem=cert_pem, key_sealed=encrypt(key_pem, context=CONTEXT)
            )
    except IntegrityError:  # another process made it first
        return ServiceProviderKey.objects.get(pk=1)


def certificate() -> str:
    return sp_key().cert_pem


def fingerprint() -> str:
    """SHA-256 of the certificate (DER), as IdP consoles show it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificate(certificate().encode())
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


@contextmanager
def key_files() -> Iterator[tuple[str, str]]:
    """(key file, cert file) in a private temporary folder, removed afterwards."""
    row = sp_key()
    with tempfile.TemporaryDirectory(prefix="iam-sp-") as folder:
        os.chmod(folder, 0o700)
        key_path, cert_path = Path(folder) / "sp.key", Path(folder) / "sp.crt"
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(decrypt(row.key_sealed, context=CONTEXT))
        cert_path.write_text(row.cert_pem)
        yield str(key_path), str(cert_path)
