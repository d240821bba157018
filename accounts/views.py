"""Console pages for login, the overview, RAM users and security settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import mfa, preferences, selectors, services
from accounts.arns import account_resource
from accounts.console import confirm, handle_iam_errors, paginate, render_error
from accounts.errors import IamError
from accounts.forms import (
    AdministratorForm,
    AliasForm,
    LoginProfileForm,
    PasswordChangeForm,
    PasswordPolicyForm,
    SecurityPreferenceForm,
    UserCreateForm,
    UserEditForm,
)
from accounts.models import AccessKey, Account, Notice, PasswordPolicy, User
from accounts.stepup import step_up_redirect
from groups.selectors import groups_for, memberships_of
from policies.guards import allowed, require
from policies.selectors import attachments_for_user, get_policy
from policies.services import policy_attach


@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    user = request.user
    policy = PasswordPolicy.objects.get(account_id=user.account_id)  # type: ignore[union-attr]
    context = {
        "form": form,
        "policy": policy,
        "forced": request.session.get("must_change_password", False),
    }
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=request.principal,  # type: ignore[attr-defined]
                user=user,  # type: ignore[arg-type]
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except IamError as exc:
            return render_error(request, "accounts/password_change.html", context, exc)
        # Keeps this session signed in; the user's other sessions end with the old hash.
        update_session_auth_hash(request, user)  # type: ignore[arg-type]
        request.session["must_change_password"] = False
        messages.success(request, "Your password has been changed.")
        return redirect("accounts:overview")
    return render(request, "accounts/password_change.html", context)


def overview(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    account = Account.objects.get(pk=principal.account_id)  # the role's, after a switch
    has_admin = selectors.administrator_exists(account.pk)
    root = User.objects.get(account=account, kind=User.Kind.ROOT)
    if principal.is_root and not has_admin and not request.session.get("welcome_seen"):
        request.session["welcome_seen"] = True
        return redirect("accounts:welcome")
    counts = {}
    if allowed(principal, "ram:ListUsers", f"acs:ram:*:{account.uid}:user/*"):
        users = User.objects.filter(account=account, kind=User.Kind.RAM_USER)
        counts["users"] = users.count()
        counts["console_users"] = users.filter(console_access=True).count()
        counts["both_users"] = users.filter(console_access=True, programmatic_access=True).count()
    if allowed(principal, "ram:ListGroups", f"acs:ram:*:{account.uid}:group/*"):
        counts["groups"] = account.groups.count()
    if allowed(principal, "ram:ListPolicies", f"acs:ram:*:{account.uid}:policy/*"):
        counts["custom_policies"] = account.policies.count()
    checklist = [
        ("An administrator RAM user exists, so root can stay out of daily use", has_admin),
        ("Root has an MFA device", mfa.has_mfa(root)),
        ("No user mixes console and programmatic access", counts.get("both_users", 0) == 0),
        (
            "Password policy requires at least 15 characters or MFA",
            account.password_policy.minimum_password_length >= 15,
        ),
    ]
    return render(
        request,
        "accounts/overview.html",
        {
            "account": account,
            "counts": counts,
            "checklist": checklist,
            "has_admin": has_admin,
            "root_without_mfa": principal.is_root and not mfa.has_mfa(root),
            "notices": Notice.objects.filter(user_id=request.user.pk or 0)[:5],
        },
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def welcome(request: HttpRequest) -> HttpResponse:
    """Root's first step: create an administrator RAM user and use it instead of root."""
    principal = request.principal  # type: ignore[attr-defined]
    form = AdministratorForm(request.POST or None)
    context = {"form": form, "account": request.user.account}  # type: ignore[union-attr]
    if request.method == "POST" and (step_up := step_up_redirect(request)) is not None:
        return step_up  # the administrator gets AdministratorAccess: a fresh password first
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                actor=principal,
                name=form.cleaned_data["name"],
                display_name=form.cleaned_data["display_name"],
                console_access=True,
                password=form.cleaned_data["password"],
            )
            admin_policy = get_policy(user.account, "System", "AdministratorAccess")
            if admin_policy is None:
                raise RuntimeError("the AdministratorAccess system policy is missing")
            policy_attach(actor=principal, policy=admin_policy, user=user)
        except IamError as exc:
            return render_error(request, "accounts/welcome.html", context, exc)
        messages.success(
            request,
            f"Administrator {user.name} created. Sign out and sign in as {user.login_name}; "
            "keep root for the few tasks only root can do.",
        )
        return redirect("accounts:user_detail", name=user.name)
    return render(request, "accounts/welcome.html", context)


@handle_iam_errors
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:64]
    page = paginate(request, selectors.users_for(request.principal, query))  # type: ignore[attr-defined]
    return render(request, "accounts/user_list.html", {"page": page, "q": query})


def _access_flags(access: str) -> tuple[bool, bool]:
    return access in ("console", "both"), access in ("programmatic", "both")


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def user_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:CreateUser", f"acs:ram:*:{principal.account_uid}:user/*")
    form = UserCreateForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        console_access, programmatic_access = _access_flags(data["access"])
        try:
            user = services.user_create(
                actor=principal,
                name=data["name"],
                console_access=console_access,
                programmatic_access=programmatic_access,
                password=data["password"],
                password_reset_required=data["password_reset_required"],
                **{k: data[k] for k in ("display_name", "email", "mobile_phone", "comments")},
            )
        except IamError as exc:
            return render_error(request, "accounts/user_create.html", context, exc)
        messages.success(request, f"User {user.name} created.")
        return redirect("accounts:user_detail", name=user.name)
    return render(request, "accounts/user_create.html", context)


@handle_iam_errors
def user_detail(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    user = selectors.get_user_for_actor(principal, name)
    arn = user.resource_arn
    flags = {
        action: allowed(principal, f"ram:{action}", arn)
        for action in (
            "UpdateUser",
            "DeleteUser",
            "AttachPolicyToUser",
            "DetachPolicyFromUser",
            "CreateLoginProfile",
            "UpdateLoginProfile",
            "DeleteLoginProfile",
            "ListPoliciesForUser",
            "ListGroupsForUser",
        )
    }
    flags["AddUserToGroup"] = allowed(
        principal, "ram:AddUserToGroup", f"acs:ram:*:{principal.account_uid}:group/*"
    )
    for action in (
        "ListAccessKeys",
        "CreateAccessKey",
        "UpdateAccessKey",
        "DeleteAccessKey",
        "UnbindMFADevice",
        "LockdownUser",
    ):
        flags[action] = allowed(principal, f"ram:{action}", arn)
    flags["LookupEvents"] = allowed(
        principal, "audit:LookupEvents", f"acs:audit:*:{principal.account_uid}:event/*"
    )
    keys = AccessKey.objects.filter(user=user) if flags["ListAccessKeys"] else None
    memberships = memberships_of(user) if flags["ListGroupsForUser"] else None
    attachments = attachments_for_user(user.pk) if flags["ListPoliciesForUser"] else None
    group_choices = []
    if flags["AddUserToGroup"] and allowed(
        principal, "ram:ListGroups", f"acs:ram:*:{principal.account_uid}:group/*"
    ):
        joined = {m.group_id for m in memberships} if memberships is not None else set()
        group_choices = [g for g in groups_for(principal) if g.pk not in joined]
    return render(
        request,
        "accounts/user_detail.html",
        {
            "subject": user,
            "flags": flags,
            "memberships": memberships,
            "attachments": attachments,
            "group_choices": group_choices,
            "keys": keys,
            "exempt_allowed": flags["UpdateAccessKey"],
            "has_mfa": mfa.has_mfa(user),
            "key_base": f"/console/users/{user.name}/access-keys",
        },
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def user_edit(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    user = selectors.get_user_for_actor(principal, name, action="ram:UpdateUser")
    initial = {
        "new_name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "mobile_phone": user.mobile_phone,
        "comments": user.comments,
        "programmatic_access": user.programmatic_access,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    context = {"form": form, "subject": user}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(actor=principal, user=user, **data)
        except IamError as exc:
            return render_error(request, "accounts/user_edit.html", context, exc)
        messages.success(request, f"User {user.name} updated.")
        return redirect("accounts:user_detail", name=user.name)
    return render(request, "accounts/user_edit.html", context)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def user_delete(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    user = selectors.get_user_for_actor(principal, name, action="ram:DeleteUser")
    step_up = step_up_redirect(request, next_url=reverse("accounts:user_delete", args=[name]))
    if step_up is not None:
        return step_up
    if request.method == "POST":
        services.user_delete(actor=principal, user=user, force=True)
        messages.success(request, f"User {name} deleted.")
        return redirect("accounts:user_list")
    details = [f"Member of group {m.group.name}" for m in memberships_of(user)]
    details += [f"Policy {a.policy.name} attached" for a in attachments_for_user(user.pk)]
    if user.console_access:
        details.append("Console access (password) will be removed")
    return confirm(
        request,
        title=f"Delete user {user.name}?",
        message="The user, its group memberships, attached policies and console access are "
        "removed at once. This can't be undone.",
        details=details,
        action_url=reverse("accounts:user_delete", args=[user.name]),
        cancel_url=reverse("accounts:user_detail", args=[user.name]),
        button="Delete user",
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def login_profile(request: HttpRequest, name: str) -> HttpResponse:
    """Give console access, reset the password, or set the next-login requirements."""
    principal = request.principal  # type: ignore[attr-defined]
    user = selectors.get_user_for_actor(principal, name)
    initial = {
        "password_reset_required": user.password_reset_required,
        "mfa_bind_required": user.mfa_bind_required,
    }
    form = LoginProfileForm(request.POST or None, initial=initial)
    context = {"form": form, "subject": user}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.login_profile_set(
                actor=principal,
                user=user,
                password=data["password"],
                password_reset_required=data["password_reset_required"],
                mfa_bind_required=data["mfa_bind_required"],
            )
        except IamError as exc:
            return render_error(request, "accounts/login_profile.html", context, exc)
        messages.success(request, f"Console access of {user.name} saved.")
        return redirect("accounts:user_detail", name=user.name)
    return render(request, "accounts/login_profile.html", context)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def login_profile_delete(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    user = selectors.get_user_for_actor(principal, name)
    if request.method == "POST":
        try:
            services.login_profile_delete(actor=principal, user=user)
        except IamError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Console access of {user.name} removed.")
        return redirect("accounts:user_detail", name=user.name)
    return confirm(
        request,
        title=f"Remove console access of {user.name}?",
        message="The user can no longer sign in to the console. Programmatic access is kept.",
        action_url=reverse("accounts:login_profile_delete", args=[user.name]),
        cancel_url=reverse("accounts:user_detail", args=[user.name]),
        button="Remove access",
    )


def _security_context(request: HttpRequest, **forms: Any) -> dict[str, Any]:
    principal = request.principal  # type: ignore[attr-defined]
    resource = account_resource(principal.account_uid)
    policy = PasswordPolicy.objects.get(account_id=principal.account_id)
    preference = preferences.security_preference_of(principal.account_id)
    initial_policy = {field: getattr(policy, field) for field in services.POLICY_FIELDS}
    initial_pref = {f: getattr(preference, f) for f in preferences.PREFERENCE_FIELDS}
    return {
        "form": forms.get("form") or PasswordPolicyForm(initial=initial_policy),
        "preference_form": forms.get("preference_form")
        or SecurityPreferenceForm(initial=initial_pref),
        "alias_form": forms.get("alias_form")
        or AliasForm(initial={"alias": preferences.account_alias(principal.account_id)}),
        "can_edit": allowed(principal, "ram:SetPasswordPolicy", resource),
        "can_edit_preference": allowed(principal, "ram:SetSecurityPreference", resource),
        "can_edit_alias": allowed(principal, "ram:SetAccountAlias", resource),
        "policy": policy,
    }


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def security_settings(request: HttpRequest) -> HttpResponse:
    """Password policy (this URL's form), security preference and alias (their own URLs)."""
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:GetPasswordPolicy", account_resource(principal.account_uid))
    if request.method == "POST":
        require(principal, "ram:SetPasswordPolicy", account_resource(principal.account_uid))
        step_up = step_up_redirect(request, next_url=reverse("accounts:security"))
        if step_up is not None:
            return step_up
    form = PasswordPolicyForm(request.POST) if request.method == "POST" else None
    context = _security_context(request, form=form)
    if form is not None and form.is_valid():
        try:
            services.password_policy_set(actor=principal, **form.cleaned_data)
        except IamError as exc:
            return render_error(request, "accounts/security.html", context, exc)
        messages.success(request, "Password policy saved.")
        return redirect("accounts:security")
    return render(request, "accounts/security.html", context, status=400 if form else 200)


@require_POST
@handle_iam_errors
def security_preference(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:SetSecurityPreference", account_resource(principal.account_uid))
    step_up = step_up_redirect(request, next_url=reverse("accounts:security"))
    if step_up is not None:
        return step_up
    form = SecurityPreferenceForm(request.POST)
    if form.is_valid():
        try:
            preferences.security_preference_set(actor=principal, **form.cleaned_data)
        except IamError as exc:
            context = _security_context(request, preference_form=form)
            return render_error(request, "accounts/security.html", context, exc)
        messages.success(request, "Security preference saved.")
        return redirect("accounts:security")
    context = _security_context(request, preference_form=form)
    return render(request, "accounts/security.html", context, status=400)


@require_POST
@handle_iam_errors
def account_alias(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    action = "ram:SetAccountAlias" if request.POST.get("alias") else "ram:ClearAccountAlias"
    require(principal, action, account_resource(principal.account_uid))
    step_up = step_up_redirect(request, next_url=reverse("accounts:security"))
    if step_up is not None:
        return step_up
    form = AliasForm(request.POST)
    if form.is_valid():
        try:
            preferences.account_alias_set(actor=principal, alias=form.cleaned_data["alias"])
        except IamError as exc:
            context = _security_context(request, alias_form=form)
            return render_error(request, "accounts/security.html", context, exc)
        messages.success(request, "Account alias saved. RAM users' login names follow it.")
        return redirect("accounts:security")
    context = _security_context(request, alias_form=form)
    return render(request, "accounts/security.html", context, status=400)
