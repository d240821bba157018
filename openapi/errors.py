"""Gateway-level errors of the signed API (reference §4.3); services raise accounts.errors."""

from accounts.errors import IamError


class ApiError(IamError):
    pass


def signature_mismatch(string_to_sign: str) -> ApiError:
    # The legacy SDK splits this message on ':' and compares the part after the colon
    # with its own string to sign, so the form must stay exactly this.
    return ApiError(
        "SignatureDoesNotMatch",
        "Specified signature is not matched with our calculation. server string to sign is:"
        + string_to_sign,
        status=400,
    )


def missing(name: str) -> ApiError:
    return ApiError(f"Missing{name}", f"{name} is mandatory for this action.", status=400)


def invalid(name: str, why: str = "") -> ApiError:
    message = f"Specified parameter {name} is not valid." + (f" {why}" if why else "")
    return ApiError(f"InvalidParameter.{name}", message, status=400)
