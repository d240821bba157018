from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.arns import account_resource, ram_resource
from policies.guards import allowed

NAV = [
    ("overview", "Overview", None),
    ("users", "Users", ("ram:ListUsers", "user")),
    ("groups", "Groups", ("ram:ListGroups", "group")),
    ("roles", "Roles", ("ram:ListRoles", "role")),
    ("policies", "Policies", ("ram:ListPolicies", "policy")),
    ("simulator", "Policy simulator", ("ram:ListPolicies", "policy")),
    ("security", "Security settings", ("ram:GetPasswordPolicy", None)),
    ("sso", "Single sign-on", ("ram:GetUserSsoSettings", None)),
    ("identity-providers", "Identity providers", ("ram:ListSAMLProviders", "saml-provider")),
    ("audit", "Audit log", ("audit:LookupEvents", None)),
    ("worker", "Worker health", ("iam:GetWorkerHealth", None)),
]


def console(request: HttpRequest) -> dict[str, Any]:
    """Navigation entries the principal may open; templates receive flags, never rules."""
    principal = getattr(request, "principal", None)
    if principal is None:
        return {"logon_domain": settings.IAM_LOGON_DOMAIN}
    uid = principal.account_uid
    entries = []
    for key, label, check in NAV:
        if check is not None:
            action, kind = check
            resource = ram_resource(uid, kind) if kind else account_resource(uid)
            if action.startswith("audit:"):
                resource = f"acs:audit:*:{uid}:event/*"
            if action.startswith("iam:"):
                resource = f"acs:iam:*:{uid}:worker"
            if not allowed(principal, action, resource):
                continue
        entries.append(
            {"key": key, "label": label, "url": f"/console/{key}/".replace("/overview/", "/")}
        )
    section = request.path.removeprefix("/console/").split("/", 1)[0] or "overview"
    return {"nav_entries": entries, "principal": principal, "active": section}
