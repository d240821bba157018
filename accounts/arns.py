"""Resource ARNs for ram:* actions (reference §7.5)."""


def ram_resource(account_uid: str, kind: str, name: str = "*") -> str:
    return f"acs:ram:*:{account_uid}:{kind}/{name}"


def account_resource(account_uid: str) -> str:
    return f"acs:ram:*:{account_uid}:*"
