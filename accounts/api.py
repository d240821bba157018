"""RAM API actions for users, login profiles, AccessKeys and account security settings."""

from __future__ import annotations

from typing import Any

from accounts import access_keys, mfa, preferences, selectors, services, virtual_mfa
from accounts.arns import account_resource
from accounts.errors import Conflict, NotFound
from accounts.models import AccessKey, PasswordPolicy, User, VirtualMFADevice
from openapi.params import iso, page
from openapi.registry import RAM, ApiCall, action
from policies.guards import require


def _caller(call: ApiCall) -> User:
    """The caller's own identity (root or RAM user)."""
    return User.objects.select_related("account").get(pk=call.principal.user_pk or 0)


def user_json(user: User, *, update: bool = True, last_login: bool = False) -> dict[str, Any]:
    body = {
        "UserId": user.user_id,
        "UserName": user.name,
        "DisplayName": user.display_name,
        "MobilePhone": user.mobile_phone,
        "Email": user.email,
        "Comments": user.comments,
        "CreateDate": iso(user.created_at),
    }
    if update:
        body["UpdateDate"] = iso(user.updated_at)
    if last_login:
        body["LastLoginDate"] = iso(user.last_login)
    return body


def _profile_fields(call: ApiCall, prefix: str = "") -> dict[str, str]:
    names = {
        "DisplayName": "display_name",
        "MobilePhone": "mobile_phone",
        "Email": "email",
        "Comments": "comments",
    }
    return {
        field: call.params.text(prefix + name)
        for name, field in names.items()
        if prefix + name in call.params
    }


@action(RAM, "CreateUser")
def create_user(call: ApiCall) -> dict[str, Any]:
    # Users created through the API are programs' identities: programmatic access is on;
    # CreateLoginProfile adds console access (the console flags that mix).
    fields: dict[str, Any] = _profile_fields(call)
    user = services.user_create(
        actor=call.principal,
        name=call.params.text("UserName", required=True),
        programmatic_access=True,
        **fields,
    )
    return {"User": user_json(user, update=False)}


@action(RAM, "GetUser")
def get_user(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(call.principal, call.params.text("UserName", required=True))
    return {"User": user_json(user, last_login=True)}


@action(RAM, "UpdateUser")
def update_user(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), action="ram:UpdateUser"
    )
    user = services.user_update(
        actor=call.principal,
        user=user,
        new_name=call.params.text("NewUserName"),
        **_profile_fields(call, prefix="New"),
    )
    return {"User": user_json(user)}


@action(RAM, "DeleteUser")
def delete_user(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), action="ram:DeleteUser"
    )
    if user.access_keys.exists():
        raise Conflict(
            "DeleteConflict.User.AccessKey",
            f"The user {user.name} still has AccessKeys; delete them first.",
        )
    services.user_delete(actor=call.principal, user=user)
    return {}


@action(RAM, "ListUsers")
def list_users(call: ApiCall) -> dict[str, Any]:
    users = selectors.users_for(call.principal)
    items, info = page(call.params, users, "name", max_limit=1000)
    return {**info, "Users": {"User": [user_json(u) for u in items]}}


@action(RAM, "ChangePassword")
def change_password(call: ApiCall) -> dict[str, Any]:
    user = _caller(call)
    services.password_change(
        actor=call.principal,
        user=user,
        old_password=call.params.text("OldPassword", required=True),
        new_password=call.params.text("NewPassword", required=True),
    )
    return {}


# --- login profiles --------------------------------------------------------------------------


def _login_profile_json(user: User) -> dict[str, Any]:
    return {
        "LoginProfile": {
            "UserName": user.name,
            "PasswordResetRequired": user.password_reset_required,
            "MFABindRequired": user.mfa_bind_required,
            "CreateDate": iso(user.login_profile_created_at),
        }
    }


@action(RAM, "CreateLoginProfile")
def create_login_profile(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), "ram:CreateLoginProfile"
    )
    if user.console_access:
        raise Conflict(
            "EntityAlreadyExists.User.LoginProfile",
            f"The user {user.name} already has a login profile.",
        )
    user = services.login_profile_set(
        actor=call.principal,
        user=user,
        password=call.params.text("Password", required=True),
        password_reset_required=call.params.flag("PasswordResetRequired", False),
        mfa_bind_required=call.params.flag("MFABindRequired", False),
    )
    return _login_profile_json(user)


@action(RAM, "GetLoginProfile")
def get_login_profile(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), action="ram:GetLoginProfile"
    )
    if not user.console_access:
        raise NotFound(
            "EntityNotExist.User.LoginProfile", f"The user {user.name} has no login profile."
        )
    return _login_profile_json(user)


@action(RAM, "UpdateLoginProfile")
def update_login_profile(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), "ram:UpdateLoginProfile"
    )
    if not user.console_access:
        raise NotFound(
            "EntityNotExist.User.LoginProfile", f"The user {user.name} has no login profile."
        )
    services.login_profile_set(
        actor=call.principal,
        user=user,
        password=call.params.text("Password"),
        password_reset_required=call.params.flag("PasswordResetRequired"),
        mfa_bind_required=call.params.flag("MFABindRequired"),
    )
    return {}


@action(RAM, "DeleteLoginProfile")
def delete_login_profile(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), "ram:DeleteLoginProfile"
    )
    services.login_profile_delete(actor=call.principal, user=user)
    return {}


# --- AccessKeys ------------------------------------------------------------------------------


def _user_for(call: ApiCall, action: str) -> User:
    """The UserName's user, after checking `action` on it unless it is the caller itself
    (whose self-service rules its service checks); 403 before 404 either way."""
    name = call.params.text("UserName", required=True)
    caller = call.principal
    if caller.kind == "user" and caller.name.lower() == name.lower():
        return selectors.find_user(caller.account_id, name)
    return selectors.get_user_for_actor(caller, name, action)


def _key_owner(call: ApiCall, action: str) -> User:
    """UserName, or the caller's own identity when omitted (root included)."""
    if call.params.text("UserName"):
        return _user_for(call, action)
    return _caller(call)


def _key_json(key: AccessKey) -> dict[str, Any]:
    return {
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": iso(key.created_at),
    }


@action(RAM, "CreateAccessKey")
def create_access_key(call: ApiCall) -> dict[str, Any]:
    key, secret = access_keys.access_key_create(
        actor=call.principal, user=_key_owner(call, "ram:CreateAccessKey")
    )
    return {"AccessKey": {**_key_json(key), "AccessKeySecret": secret}}


@action(RAM, "UpdateAccessKey")
def update_access_key(call: ApiCall) -> dict[str, Any]:
    access_keys.access_key_set_status(
        actor=call.principal,
        user=_key_owner(call, "ram:UpdateAccessKey"),
        access_key_id=call.params.text("UserAccessKeyId", required=True),
        status=call.params.text("Status", required=True),
    )
    return {}


@action(RAM, "DeleteAccessKey")
def delete_access_key(call: ApiCall) -> dict[str, Any]:
    access_keys.access_key_delete(
        actor=call.principal,
        user=_key_owner(call, "ram:DeleteAccessKey"),
        access_key_id=call.params.text("UserAccessKeyId", required=True),
    )
    return {}


@action(RAM, "ListAccessKeys")
def list_access_keys(call: ApiCall) -> dict[str, Any]:
    keys = access_keys.keys_of(call.principal, _key_owner(call, "ram:ListAccessKeys"))
    return {"AccessKeys": {"AccessKey": [_key_json(k) for k in keys]}}


@action(RAM, "GetAccessKeyLastUsed")
def get_access_key_last_used(call: ApiCall) -> dict[str, Any]:
    key = access_keys.get_key(
        call.principal,
        _key_owner(call, "ram:GetAccessKeyLastUsed"),
        call.params.text("UserAccessKeyId", required=True),
        "ram:GetAccessKeyLastUsed",
    )
    return {"AccessKeyLastUsed": {"LastUsedDate": iso(key.last_used_at)}}


# --- password policy, security preference, alias ----------------------------------------------

POLICY_WIRE = {
    "MinimumPasswordLength": "minimum_password_length",
    "RequireLowercaseCharacters": "require_lowercase_characters",
    "RequireUppercaseCharacters": "require_uppercase_characters",
    "RequireNumbers": "require_numbers",
    "RequireSymbols": "require_symbols",
    "HardExpiry": "hard_expiry",
    "MaxPasswordAge": "max_password_age",
    "PasswordReusePrevention": "password_reuse_prevention",
    "MaxLoginAttemps": "max_login_attempts",  # sic: Alibaba's spelling on the wire
}
POLICY_INTS = {
    "MinimumPasswordLength": (8, 32),
    "MaxPasswordAge": (0, 1095),
    "PasswordReusePrevention": (0, 24),
    "MaxLoginAttemps": (0, 32),
}


def _password_policy_json(policy: PasswordPolicy) -> dict[str, Any]:
    return {"PasswordPolicy": {wire: getattr(policy, field) for wire, field in POLICY_WIRE.items()}}


@action(RAM, "GetPasswordPolicy")
def get_password_policy(call: ApiCall) -> dict[str, Any]:
    require(call.principal, "ram:GetPasswordPolicy", account_resource(call.principal.account_uid))
    return _password_policy_json(PasswordPolicy.objects.get(account_id=call.principal.account_id))


@action(RAM, "SetPasswordPolicy")
def set_password_policy(call: ApiCall) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for wire, field in POLICY_WIRE.items():
        if wire in POLICY_INTS:
            low, high = POLICY_INTS[wire]
            value: Any = call.params.number(wire, low=low, high=high)
        else:
            value = call.params.flag(wire)
        if value is not None:
            values[field] = value
    policy = services.password_policy_set(actor=call.principal, **values)
    return _password_policy_json(policy)


PREFERENCE_BOOLS = {
    "EnableSaveMFATicket": "enable_save_mfa_ticket",
    "AllowUserToChangePassword": "allow_user_to_change_password",
    "AllowUserToManageAccessKeys": "allow_user_to_manage_access_keys",
    "AllowUserToManageMFADevices": "allow_user_to_manage_mfa_devices",
}


def _preference_json(call: ApiCall) -> dict[str, Any]:
    pref = preferences.security_preference_of(call.principal.account_id)
    return {
        "SecurityPreference": {
            "LoginProfilePreference": {
                "EnableSaveMFATicket": pref.enable_save_mfa_ticket,
                "AllowUserToChangePassword": pref.allow_user_to_change_password,
                "LoginSessionDuration": pref.login_session_duration,
                "LoginNetworkMasks": pref.login_network_masks,
            },
            "AccessKeyPreference": {
                "AllowUserToManageAccessKeys": pref.allow_user_to_manage_access_keys
            },
            "MFAPreference": {"AllowUserToManageMFADevices": pref.allow_user_to_manage_mfa_devices},
            "PublicKeyPreference": {"AllowUserToManagePublicKeys": False},
        }
    }


@action(RAM, "GetSecurityPreference")
def get_security_preference(call: ApiCall) -> dict[str, Any]:
    require(
        call.principal, "ram:GetSecurityPreference", account_resource(call.principal.account_uid)
    )
    return _preference_json(call)


@action(RAM, "SetSecurityPreference")
def set_security_preference(call: ApiCall) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for wire, field in PREFERENCE_BOOLS.items():
        value = call.params.flag(wire)
        if value is not None:
            values[field] = value
    duration = call.params.number("LoginSessionDuration", low=1, high=24)
    if duration is not None:
        values["login_session_duration"] = duration
    masks = call.params.optional("LoginNetworkMasks")
    if masks is not None:
        values["login_network_masks"] = masks
    preferences.security_preference_set(actor=call.principal, **values)
    return _preference_json(call)


@action(RAM, "GetAccountAlias")
def get_account_alias(call: ApiCall) -> dict[str, Any]:
    require(call.principal, "ram:GetAccountAlias", account_resource(call.principal.account_uid))
    return {"AccountAlias": preferences.account_alias(call.principal.account_id)}


@action(RAM, "SetAccountAlias")
def set_account_alias(call: ApiCall) -> dict[str, Any]:
    preferences.account_alias_set(
        actor=call.principal, alias=call.params.text("AccountAlias", required=True)
    )
    return {}


@action(RAM, "ClearAccountAlias")
def clear_account_alias(call: ApiCall) -> dict[str, Any]:
    preferences.account_alias_set(actor=call.principal, alias="")
    return {}


# --- MFA devices ----------------------------------------------------------------------------


@action(RAM, "CreateVirtualMFADevice")
def create_virtual_mfa_device(call: ApiCall) -> dict[str, Any]:
    device, seed, png = virtual_mfa.device_create(
        actor=call.principal, name=call.params.text("VirtualMFADeviceName", required=True)
    )
    return {
        "VirtualMFADevice": {
            "SerialNumber": device.serial_number,
            "Base32StringSeed": seed,
            "QRCodePNG": png,
        }
    }


@action(RAM, "BindMFADevice")
def bind_mfa_device(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), "ram:BindMFADevice"
    )
    virtual_mfa.device_bind(
        actor=call.principal,
        serial=call.params.text("SerialNumber", required=True),
        user=user,
        code1=call.params.text("AuthenticationCode1", required=True),
        code2=call.params.text("AuthenticationCode2", required=True),
    )
    return {}


@action(RAM, "UnbindMFADevice")
def unbind_mfa_device(call: ApiCall) -> dict[str, Any]:
    user = _user_for(call, "ram:UnbindMFADevice")
    mfa.require_unbind(actor=call.principal, user=user)
    device = virtual_mfa.device_of(user)
    if device is None and not mfa.has_mfa(user):
        raise NotFound("EntityNotExist.User.MFADevice", f"The user {user.name} has no MFA device.")
    serial = device.serial_number if device else ""
    mfa.unbind(actor=call.principal, user=user)
    return {"MFADevice": {"SerialNumber": serial}}


@action(RAM, "DeleteVirtualMFADevice")
def delete_virtual_mfa_device(call: ApiCall) -> dict[str, Any]:
    virtual_mfa.device_delete(
        actor=call.principal, serial=call.params.text("SerialNumber", required=True)
    )
    return {}


@action(RAM, "ListVirtualMFADevices")
def list_virtual_mfa_devices(call: ApiCall) -> dict[str, Any]:
    require(
        call.principal, "ram:ListVirtualMFADevices", f"acs:ram:*:{call.principal.account_uid}:mfa/*"
    )
    devices = (
        VirtualMFADevice.objects.filter(account_id=call.principal.account_id)
        .select_related("account", "user")
        .order_by("name")
    )
    rows = []
    for device in devices:
        row: dict[str, Any] = {
            "SerialNumber": device.serial_number,
            "ActivateDate": iso(device.activated_at),
        }
        if device.user:
            row["User"] = {
                "UserId": device.user.user_id,
                "UserName": device.user.name,
                "DisplayName": device.user.display_name,
            }
        rows.append(row)
    return {"VirtualMFADevices": {"VirtualMFADevice": rows}}


@action(RAM, "GetUserMFAInfo")
def get_user_mfa_info(call: ApiCall) -> dict[str, Any]:
    user = selectors.get_user_for_actor(
        call.principal, call.params.text("UserName", required=True), action="ram:GetUserMFAInfo"
    )
    device = virtual_mfa.device_of(user)
    if device is None:
        raise NotFound("EntityNotExist.User.MFADevice", f"The user {user.name} has no MFA device.")
    return {"MFADevice": {"SerialNumber": device.serial_number, "Type": "VMFA"}}
