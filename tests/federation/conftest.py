"""Shared with the API tests: api_for(user) signs with a fresh AccessKey of that user."""

from tests.openapi.conftest import api_for  # noqa: F401
