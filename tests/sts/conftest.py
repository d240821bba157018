"""Share the signing helpers of the API tests."""

from tests.openapi.conftest import api_for  # noqa: F401
