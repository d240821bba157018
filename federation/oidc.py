"""AssumeRoleWithOIDC: an OIDC token (JWT) signed by a registered provider buys a role session.

The token is verified with joserfc against the provider's uploaded JWKS (asymmetric algorithms
only), then its issuer, audience (one of the provider's client ids), expiry, not-before and age
(IssuanceLimitTime) are checked with a minute of leeway; each token is accepted once. The role's
trust policy must name the provider under `Federated`; conditions see oidc:iss, oidc:aud and
oidc:sub.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from accounts.errors import IamError, InvalidParameter
from audit.services import event_record
from federation.models import OIDCProvider
from policies.engine import Effect
from policies.principal import Principal, RequestMeta
from roles.trust import parse_trust_policy, trust_decision
from singleuse.services import OIDC_TOKEN, use_once
from sts import services as sts
from sts.services import Credentials

PROVIDER_ARN_RE = re.compile(r"^acs:ram::(\d{16}):oidc-provider/([A-Za-z0-9._-]{1,128})$")
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY = 60


class OidcRejected(IamError):
    status = 401


@dataclass(frozen=True)
class OidcIdentity:
    issuer: str
    subject: str
    audience: str  # the client id it was issued to (one of the provider's)
    audiences: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    token_digest: str


def find_provider(arn: str) -> OIDCProvider:
    from federation.services import provider_by_arn

    provider = provider_by_arn(OIDCProvider, PROVIDER_ARN_RE, arn, "OIDCProviderArn")
    if provider is None:
        raise OidcRejected("AuthenticationFail.NoPermission", "No such OIDC Provider registered.")
    return provider


def _moment(value: object, name: str) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise OidcRejected("AuthenticationFail.OIDCToken.Invalid", f"The claim {name} is missing.")
    return datetime.fromtimestamp(value, tz=UTC)


def verify_token(provider: OIDCProvider, token: str, now: datetime) -> OidcIdentity:
    from joserfc import jwt
    from joserfc.errors import BadSignatureError, JoseError
    from joserfc.jwk import KeySet

    if not 4 <= len(token) <= 20000:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken is 4 to 20000 chars."
        )
    if token.count(".") != 2:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.Invalid",
            "The number of Jwt field should be divided into 3 parts with '.' .",
        )
    if not provider.jwks:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.InvalidSignature",
            "The provider has no signing keys: upload its JWKS document.",
        )
    keys = KeySet.import_key_set(json.loads(provider.jwks))
    try:
        decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
    except BadSignatureError as exc:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.InvalidSignature",
            "OIDC token validate failed: invalid signature.",
        ) from exc
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.Invalid",
            f"The Jwt content is invalid that cannot be recognized ({type(exc).__name__}).",
        ) from exc
    claims = decoded.claims
    issuer = claims.get("iss")
    if issuer != provider.issuer_url:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.IssuerNotMatch",
            "The issuer of the token does not match the provider's IssuerUrl.",
        )
    audience = claims.get("aud")
    audiences = tuple(audience) if isinstance(audience, list) else (audience,)
    matched = next((a for a in audiences if a in provider.client_id_list), None)
    if matched is None:
        raise OidcRejected("AuthenticationFail.OIDCToken.AudienceNotMatch", "Invalid audience.")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise OidcRejected("AuthenticationFail.OIDCToken.Invalid", "The claim sub is missing.")
    expires = _moment(claims.get("exp"), "exp")
    issued = _moment(claims.get("iat"), "iat")
    stamp = now.timestamp()
    if expires.timestamp() + LEEWAY < stamp:
        raise OidcRejected("AuthenticationFail.OIDCToken.Expired", "This JsonWebToken is expired.")
    if "nbf" in claims and _moment(claims["nbf"], "nbf").timestamp() - LEEWAY > stamp:
        raise OidcRejected("AuthenticationFail.OIDCToken.Invalid", "The token is not valid yet.")
    if issued.timestamp() - LEEWAY > stamp:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.Invalid", "The token is issued in the future."
        )
    if stamp - issued.timestamp() > provider.issuance_limit_hours * 3600:
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.Expired",
            f"The token was issued more than {provider.issuance_limit_hours} h ago "
            "(the provider's IssuanceLimitTime).",
        )
    return OidcIdentity(
        issuer=issuer,
        subject=subject,
        audience=matched,
        audiences=tuple(str(a) for a in audiences),
        issued_at=issued,
        expires_at=expires,
        token_digest=hashlib.sha256(token.encode()).hexdigest(),
    )


def _accept_once(identity: OidcIdentity) -> None:
    """Each token buys one session: a durable record per token until it expires (plus the
    leeway), whichever provider or account it is presented to (fails closed)."""
    valid_until = identity.expires_at + timedelta(seconds=LEEWAY)
    if not use_once(OIDC_TOKEN, "", identity.token_digest, valid_until=valid_until):
        raise OidcRejected(
            "AuthenticationFail.OIDCToken.Invalid",
            "This OIDC token was already used; get a new one from the identity provider.",
        )


def federated_principal(
    provider: OIDCProvider, identity: OidcIdentity, meta: RequestMeta
) -> Principal:
    return Principal(
        account_id=provider.account_id,
        account_uid=provider.account.uid,
        kind="federated",
        arn=provider.arn,
        name=identity.subject[:64],
        user_pk=None,
        authz_version=provider.account.authz_version,
        credential=f"oidc-token:{identity.token_digest[:16]}",
        meta=meta,
    )


SESSION_FALLBACK_RE = re.compile(r"[^A-Za-z0-9.@_-]")


def assume_role_with_oidc(
    *,
    provider_arn: str,
    role_arn: str,
    token: str,
    session_name: str = "",
    policy: str = "",
    duration: int | None = None,
    meta: RequestMeta,
) -> tuple[Credentials, OidcIdentity]:
    now = timezone.now()
    provider = find_provider(provider_arn)
    role = sts._find_role(role_arn)
    try:
        identity = verify_token(provider, token, now)
    except OidcRejected as exc:
        event_record(
            action="sts:AssumeRoleWithOIDC",
            account=provider.account_id,
            actor_arn=provider.arn,
            actor_kind="federated",
            meta=meta,
            target_arn=role.arn,
            outcome="denied",
            error_code=exc.code,
            details={"reason": exc.message},
        )
        raise
    actor = federated_principal(provider, identity, meta)
    if not session_name:
        session_name = (SESSION_FALLBACK_RE.sub("-", identity.subject) or "oidc")[:64]
        session_name = session_name if len(session_name) >= 2 else f"oidc-{session_name}"
    if not sts.SESSION_NAME_RE.match(session_name):
        raise InvalidParameter(
            "InvalidParameter.RoleSessionName",
            "RoleSessionName is 2 to 64 letters, digits or . @ _ -.",
        )
    seconds = sts._duration(actor, role, duration)
    canonical_policy = sts._session_policy(policy)
    context = {
        **actor.context(),
        "oidc:iss": identity.issuer,
        "oidc:aud": identity.audience,
        "oidc:sub": identity.subject,
    }
    same_account = role.account_id == provider.account_id
    trust = trust_decision(parse_trust_policy(role.trust_policy), actor, context)
    details = {
        "issuer": identity.issuer,
        "subject": identity.subject,
        "audience": identity.audience,
    }
    if not same_account or trust is not Effect.ALLOW:
        event_record(
            actor=actor,
            action="sts:AssumeRoleWithOIDC",
            target_arn=role.arn,
            outcome="denied",
            error_code="NoPermission",
            details={**details, "trust": trust.value, "same_account": same_account},
        )
        raise IamError(
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM: "
            f"the trust policy of {role.arn} doesn't trust this provider and token.",
            status=403,
        )
    _accept_once(identity)
    creds = sts._issue(
        actor,
        role,
        session_name,
        seconds,
        canonical_policy,
        action="sts:AssumeRoleWithOIDC",
        extra=details,
    )
    return creds, identity
