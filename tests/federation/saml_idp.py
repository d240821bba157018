"""A real SAML identity provider for the tests: pysaml2's IdP side with a fresh key pair,
issuing signed responses to our service providers (and tampered ones)."""

from __future__ import annotations

import base64
import datetime
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

IDP_ENTITY = "https://idp.example.test/saml/metadata"
IDP_SSO = "https://idp.example.test/saml/sso"


def key_pair(folder: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


def _signed(server: Any, response: Any) -> str:
    """The response with its assertion and itself signed (RSA-SHA256), as IdPs send them."""
    from saml2 import class_name
    from saml2.sigver import pre_signature_part, signed_instance_factory

    alg = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    digest = "http://www.w3.org/2001/04/xmlenc#sha256"
    parts = [response.assertion, response]
    for number, part in enumerate(parts):
        part.signature = pre_signature_part(
            part.id, server.sec.my_cert, 2 - number, sign_alg=alg, digest_alg=digest
        )
    return str(
        signed_instance_factory(response, server.sec, [(class_name(p), p.id) for p in parts])
    )


def confirmation(**changes: Any) -> Callable[[Any], None]:
    """A tweak setting attributes of the bearer SubjectConfirmationData (recipient,
    not_on_or_after, in_response_to…); None removes one."""

    def tweak(response: Any) -> None:
        data = response.assertion.subject.subject_confirmation[0].subject_confirmation_data
        for name, value in changes.items():
            setattr(data, name, value)

    return tweak


def saml_time(delta: datetime.timedelta) -> str:
    """A SAML instant `delta` from now."""
    return (datetime.datetime.now(datetime.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def sp_metadata(entity_id: str, acs_url: str) -> str:
    from saml2 import BINDING_HTTP_POST
    from saml2.config import SPConfig
    from saml2.metadata import create_metadata_string

    config = SPConfig().load(
        {
            "entityid": entity_id,
            "service": {
                "sp": {"endpoints": {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]}}
            },
        }
    )
    return create_metadata_string(None, config=config).decode()


class TestSamlIdp:
    __test__ = False

    def __init__(
        self, entity_id: str = IDP_ENTITY, *, folder: Path | None = None, sso_url: str = IDP_SSO
    ) -> None:
        self.entity_id = entity_id
        self.sso_url = sso_url
        self.folder = folder or Path(tempfile.mkdtemp(prefix="saml-idp-"))
        self.key_file, self.cert_file = key_pair(self.folder, "idp")

    def _config(self, sps: list[tuple[str, str]]) -> Any:
        from saml2 import BINDING_HTTP_REDIRECT
        from saml2.config import IdPConfig
        from saml2.saml import NAME_FORMAT_URI

        return IdPConfig().load(
            {
                "entityid": self.entity_id,
                # Only signing needs xmlsec1; metadata is written without it.
                "xmlsec_binary": shutil.which("xmlsec1"),
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "metadata": {"inline": [sp_metadata(e, a) for e, a in sps]},
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                    }
                },
            }
        )

    @property
    def metadata(self) -> str:
        """The IdP's metadata: entity id, signing certificate, sign-in endpoint. Written from a
        template, so tests that only register the IdP need no xmlsec1."""
        cert = "".join(Path(self.cert_file).read_text().strip().splitlines()[1:-1])
        return (
            '<?xml version="1.0"?>'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{self.entity_id}">'
            "<md:IDPSSODescriptor "
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
            f"<ds:X509Certificate>{cert}</ds:X509Certificate>"
            "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
            "<md:SingleSignOnService "
            'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{self.sso_url}"/>'
            "</md:IDPSSODescriptor></md:EntityDescriptor>"
        )

    def response(
        self,
        sp: Any,
        *,
        subject: str = "alice",
        attributes: dict[str, list[str]] | None = None,
        audience: str | None = None,
        destination: str | None = None,
        sign: bool = True,
        in_response_to: str | None = None,
        tweak: Callable[[Any], None] | None = None,
    ) -> str:
        """A Base64 SAML Response for `sp` (a federation.saml.ServiceProvider). `tweak` may
        change the pysaml2 Response (and its assertion) before it is signed."""
        from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
        from saml2.server import Server

        audience = audience or sp.entity_id
        destination = destination or sp.acs_url
        config = self._config([(audience, destination)])
        server = Server(config=config)
        response = server.create_authn_response(
            identity=attributes or {},
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=subject),
            authn={
                "class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            },
            sign_response=False,
            sign_assertion=False,
        )
        if tweak is not None:
            tweak(response)
        xml = _signed(server, response) if sign else str(response)
        return base64.b64encode(xml.encode()).decode()

    def request_id(self, sp: Any, saml_request: str) -> str:
        """The ID of an AuthnRequest our SP sent (HTTP-Redirect binding), checked by pysaml2."""
        from saml2 import BINDING_HTTP_REDIRECT
        from saml2.server import Server

        server = Server(config=self._config([(sp.entity_id, sp.acs_url)]))
        return str(server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message.id)
