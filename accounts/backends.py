"""Session authentication only: passwords are checked by accounts.login.login_attempt."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from accounts.models import User


class ConsoleBackend(BaseBackend):
    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None  # logins go through login_attempt, which enforces locks and policy

    def get_user(self, user_id: Any) -> User | None:
        return User.objects.filter(pk=user_id).first()
