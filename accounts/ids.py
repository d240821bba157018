import secrets


def numeric_id(length: int) -> str:
    """A random decimal id of exactly `length` digits (no leading zero)."""
    return str(secrets.randbelow(9 * 10 ** (length - 1)) + 10 ** (length - 1))


def request_id() -> str:
    """A RequestId in Alibaba's upper-case UUID style, from the CSPRNG."""
    raw = secrets.token_hex(16).upper()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
