from tests.openapi.conftest import api_for  # noqa: F401
