"""Accounts (tenants), their identities (root and RAM users) and password policy."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower


class Account(models.Model):
    """A tenant: a 16-digit uid, a unique alias, and its security settings."""

    uid = models.CharField(max_length=16, unique=True)
    alias = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped in the same transaction as any change to policies, versions, attachments or
    # memberships; compiled-policy caches are keyed by it so changes bite on the next request.
    authz_version = models.BigIntegerField(default=1)
    # Audit events older than this are exported behind a checkpoint and pruned by the worker.
    audit_retention_days = models.PositiveIntegerField(default=180)

    def __str__(self) -> str:
        return f"{self.alias} ({self.uid})"

    @property
    def root_arn(self) -> str:
        return f"acs:ram::{self.uid}:root"

    @property
    def logon_domain(self) -> str:
        return f"{self.alias}.{settings.IAM_LOGON_DOMAIN}"


class PasswordPolicy(models.Model):
    """The account's password policy (reference §5.8, §8); defaults follow NIST SP 800-63B."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="password_policy"
    )
    minimum_password_length = models.PositiveSmallIntegerField(default=15)
    require_lowercase_characters = models.BooleanField(default=False)
    require_uppercase_characters = models.BooleanField(default=False)
    require_numbers = models.BooleanField(default=False)
    require_symbols = models.BooleanField(default=False)
    block_common_passwords = models.BooleanField(default=True)
    hard_expiry = models.BooleanField(default=False)
    max_password_age = models.PositiveSmallIntegerField(default=0)  # days, 0 = never
    password_reuse_prevention = models.PositiveSmallIntegerField(default=0)
    max_login_attempts = models.PositiveSmallIntegerField(default=5)  # per hour, 0 = off
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"password policy of {self.account_id}"


class UserManager(BaseUserManager["User"]):
    def get_queryset(self) -> models.QuerySet[User]:
        # Every request loads the account with the user: authz_version is read once here.
        return super().get_queryset().select_related("account")


class User(AbstractBaseUser):
    """Every console identity: an account's root or one of its RAM users."""

    class Kind(models.TextChoices):
        ROOT = "root", "Root"
        RAM_USER = "user", "RAM user"

    user_id = models.CharField(max_length=16, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="users")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.RAM_USER)
    name = models.CharField(max_length=64)  # UserName; "root" for the root identity
    display_name = models.CharField(max_length=128, blank=True)
    email = models.CharField(max_length=254, blank=True)
    mobile_phone = models.CharField(max_length=32, blank=True)
    comments = models.CharField(max_length=128, blank=True)
    console_access = models.BooleanField(default=False)
    programmatic_access = models.BooleanField(default=False)
    password_reset_required = models.BooleanField(default=False)
    mfa_bind_required = models.BooleanField(default=False)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    login_profile_created_at = models.DateTimeField(null=True, blank=True)
    failed_login_count = models.PositiveIntegerField(default=0)
    failed_login_window_start = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Set by an operator's lockdown (incident response); cleared when console access is given back.
    locked_down_at = models.DateTimeField(null=True, blank=True)
    lockdown_reason = models.CharField(max_length=256, blank=True)
    # Bumped to revoke every "remember this device" ticket of the user at once.
    mfa_ticket_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "user_id"
    REQUIRED_FIELDS = []  # type: ignore[var-annotated]

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="uniq_user_name_per_account"),
            models.UniqueConstraint(
                Lower("email"),
                condition=models.Q(kind="root"),
                name="uniq_root_email",
            ),
        ]
        indexes = [models.Index(fields=["account", "name"])]

    def __str__(self) -> str:
        return self.login_name

    @property
    def is_root(self) -> bool:
        return self.kind == self.Kind.ROOT

    @property
    def arn(self) -> str:
        if self.is_root:
            return self.account.root_arn
        return f"acs:ram::{self.account.uid}:user/{self.name}"

    @property
    def resource_arn(self) -> str:
        """The resource ARN used when authorizing ram:* actions on this user."""
        return f"acs:ram:*:{self.account.uid}:user/{self.name}"

    @property
    def login_name(self) -> str:
        if self.is_root:
            return self.email
        return f"{self.name}@{self.account.logon_domain}"

    @property
    def access_mode(self) -> str:
        if self.console_access and self.programmatic_access:
            return "both"
        if self.console_access:
            return "console"
        if self.programmatic_access:
            return "programmatic"
        return "none"


class PasswordHistory(models.Model):
    """Previous password hashes, for the policy's reuse prevention."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"password of {self.user_id} at {self.created_at}"


class SecurityPreference(models.Model):
    """The account's security preference (reference §5.8, §8)."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="security_preference"
    )
    enable_save_mfa_ticket = models.BooleanField(default=False)
    allow_user_to_change_password = models.BooleanField(default=True)
    allow_user_to_manage_access_keys = models.BooleanField(default=False)
    allow_user_to_manage_mfa_devices = models.BooleanField(default=True)
    login_session_duration = models.PositiveSmallIntegerField(default=6)  # hours, 1–24
    login_network_masks = models.CharField(max_length=512, blank=True)  # ";"-separated CIDRs
    mfa_requirement = models.CharField(
        max_length=8,
        choices=[("off", "Off"), ("admins", "Administrators"), ("all", "All console users")],
        default="off",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"security preference of {self.account_id}"


class AccessKey(models.Model):
    """A permanent AccessKey pair of a RAM user (or, discouraged, of root)."""

    class Status(models.TextChoices):
        ACTIVE = "Active", "Active"
        INACTIVE = "Inactive", "Inactive"

    access_key_id = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_keys")
    secret_sealed = models.CharField(max_length=256)  # accounts.crypto: never the plaintext
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    last_used_action = models.CharField(max_length=128, blank=True)
    # Rotation policy state (accounts.rotation): warnings, deactivation, exemption, successor.
    warned_at = models.DateTimeField(null=True, blank=True)
    policy_deactivated_at = models.DateTimeField(null=True, blank=True)
    exempt_until = models.DateField(null=True, blank=True)
    exempt_reason = models.CharField(max_length=256, blank=True)
    retire_at = models.DateTimeField(null=True, blank=True)  # end of a rotation's grace period
    successor_of = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.access_key_id

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class VirtualMFADevice(models.Model):
    """A virtual MFA device of the account (reference §5.4): created, then bound to one user.

    The seed is sealed at rest until binding moves it into the user's django-otp TOTPDevice.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="mfa_devices")
    name = models.CharField(max_length=64)
    seed_sealed = models.CharField(max_length=256)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="virtual_mfa"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("account", Lower("name"), name="uniq_mfa_device_name")
        ]

    def __str__(self) -> str:
        return self.serial_number

    @property
    def serial_number(self) -> str:
        return f"acs:ram::{self.account.uid}:mfa/{self.name}"


class KeyRotationPolicy(models.Model):
    """The account's AccessKey rotation rules, enforced by the worker."""

    class Action(models.TextChoices):
        NOTIFY = "notify", "Notify only"
        DEACTIVATE = "deactivate", "Deactivate the key"

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, related_name="key_rotation_policy"
    )
    enabled = models.BooleanField(default=False)
    max_age_days = models.PositiveIntegerField(default=90)  # 0 = no age rule
    warn_before_days = models.PositiveIntegerField(default=14)
    unused_days = models.PositiveIntegerField(default=0)  # 0 = no unused rule
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.NOTIFY)
    delete_after_deactivated_days = models.PositiveIntegerField(default=0)  # 0 = never
    rotation_grace_days = models.PositiveIntegerField(default=7)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"key rotation policy of {self.account_id}"


class Notice(models.Model):
    """A message for a console user (key rotation warnings and actions)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notices")
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.message[:60]


class ConsoleSession(models.Model):
    """One signed-in console session, so operators can list and end it. Its public id is the
    credential audit events name; ending it takes effect on the session's next request."""

    public_id = models.CharField(max_length=24, unique=True)  # "cs-" + 16 hex
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="console_sessions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="console_sessions")
    session_key = models.CharField(max_length=40, blank=True)  # to delete the stored session
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    mfa = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "ended_at", "expires_at"])]

    def __str__(self) -> str:
        return self.public_id

    @property
    def credential(self) -> str:
        return f"console-session:{self.public_id}"
