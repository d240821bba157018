"""STS API actions (2015-04-01): AssumeRole and GetCallerIdentity."""

from __future__ import annotations

from typing import Any

from openapi.params import iso
from openapi.registry import STS, ApiCall, action
from sts.services import assume_role


@action(STS, "AssumeRole")
def assume_role_action(call: ApiCall) -> dict[str, Any]:
    creds = assume_role(
        actor=call.principal,
        role_arn=call.params.text("RoleArn", required=True),
        session_name=call.params.text("RoleSessionName", required=True),
        duration=call.params.number("DurationSeconds", low=1, high=10**6),
        policy=call.params.text("Policy"),
        external_id=call.params.text("ExternalId"),
    )
    session = creds.session
    role = session.role
    return {
        "AssumedRoleUser": {
            "Arn": session.arn,
            "AssumedRoleId": f"{role.role_id}:{session.session_name}",
        },
        "Credentials": {
            "AccessKeyId": session.access_key_id,
            "AccessKeySecret": creds.secret,
            "SecurityToken": creds.token,
            "Expiration": iso(session.expires_at),
        },
        "SourceIdentity": "",
    }


@action(STS, "GetCallerIdentity")
def get_caller_identity(call: ApiCall) -> dict[str, Any]:
    principal = call.principal
    body: dict[str, Any] = {"AccountId": principal.account_uid, "Arn": principal.arn}
    if principal.kind == "root":
        body.update(
            {
                "IdentityType": "Account",
                "UserId": principal.account_uid,
                "PrincipalId": principal.account_uid,
            }
        )
    elif principal.kind == "user":
        from accounts.models import User

        user_id = User.objects.values_list("user_id", flat=True).get(pk=principal.user_pk or 0)
        body.update({"IdentityType": "RAMUser", "UserId": user_id, "PrincipalId": user_id})
    elif principal.kind == "service":
        body.update({"IdentityType": "Service", "PrincipalId": principal.name})
    else:
        from roles.models import Role

        role_id = Role.objects.values_list("role_id", flat=True).get(pk=principal.role_pk or 0)
        body.update(
            {
                "IdentityType": "AssumedRoleUser",
                "RoleId": role_id,
                "PrincipalId": f"{role_id}:{principal.name}",
            }
        )
    return body
