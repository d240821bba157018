"""Console pages for groups and their members."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.console import confirm, handle_iam_errors, paginate, render_error
from accounts.errors import IamError
from accounts.selectors import get_user_for_actor, users_for
from groups import selectors, services
from groups.forms import GroupForm, GroupPickForm, MemberForm
from policies.guards import allowed, require
from policies.selectors import attachments_for_group


@handle_iam_errors
def group_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:64]
    page = paginate(request, selectors.groups_for(request.principal, query))  # type: ignore[attr-defined]
    return render(request, "groups/group_list.html", {"page": page, "q": query})


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def group_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    require(principal, "ram:CreateGroup", f"acs:ram:*:{principal.account_uid}:group/*")
    form = GroupForm(request.POST or None)
    context = {"form": form, "creating": True}
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(actor=principal, **form.cleaned_data)
        except IamError as exc:
            return render_error(request, "groups/group_form.html", context, exc)
        messages.success(request, f"Group {group.name} created.")
        return redirect("groups:group_detail", name=group.name)
    return render(request, "groups/group_form.html", context)


@handle_iam_errors
def group_detail(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    group = selectors.get_group_for_actor(principal, name)
    arn = group.resource_arn
    flags = {
        action: allowed(principal, f"ram:{action}", arn)
        for action in (
            "UpdateGroup",
            "DeleteGroup",
            "AddUserToGroup",
            "RemoveUserFromGroup",
            "AttachPolicyToGroup",
            "DetachPolicyFromGroup",
            "ListUsersForGroup",
            "ListPoliciesForGroup",
        )
    }
    members = selectors.members_of(group) if flags["ListUsersForGroup"] else None
    candidates = []
    can_list_users = allowed(
        principal, "ram:ListUsers", f"acs:ram:*:{principal.account_uid}:user/*"
    )
    if flags["AddUserToGroup"] and can_list_users and members is not None:
        present = {m.user_id for m in members}
        candidates = [u for u in users_for(principal)[:500] if u.pk not in present]
    attachments = attachments_for_group(group.pk) if flags["ListPoliciesForGroup"] else None
    return render(
        request,
        "groups/group_detail.html",
        {
            "group": group,
            "flags": flags,
            "members": members,
            "candidates": candidates,
            "attachments": attachments,
        },
    )


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def group_edit(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    group = selectors.get_group_for_actor(principal, name, action="ram:UpdateGroup")
    form = GroupForm(request.POST or None, initial={"name": group.name, "comments": group.comments})
    context = {"form": form, "group": group, "creating": False}
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(
                actor=principal,
                group=group,
                new_name=form.cleaned_data["name"],
                new_comments=form.cleaned_data["comments"],
            )
        except IamError as exc:
            return render_error(request, "groups/group_form.html", context, exc)
        messages.success(request, f"Group {group.name} updated.")
        return redirect("groups:group_detail", name=group.name)
    return render(request, "groups/group_form.html", context)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def group_delete(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    group = selectors.get_group_for_actor(principal, name, action="ram:DeleteGroup")
    if request.method == "POST":
        services.group_delete(actor=principal, group=group, force=True)
        messages.success(request, f"Group {name} deleted.")
        return redirect("groups:group_list")
    details = [
        f"Member {m.user.name} loses the group's rights" for m in selectors.members_of(group)
    ]
    details += [f"Policy {a.policy.name} detached" for a in attachments_for_group(group.pk)]
    return confirm(
        request,
        title=f"Delete group {group.name}?",
        message="Members lose the group's permissions immediately. This can't be undone.",
        details=details,
        action_url=reverse("groups:group_delete", args=[group.name]),
        cancel_url=reverse("groups:group_detail", args=[group.name]),
        button="Delete group",
    )


@require_POST
@handle_iam_errors
def member_add(request: HttpRequest, name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    group = selectors.get_group_for_actor(principal, name, action="ram:AddUserToGroup")
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            user = get_user_for_actor(principal, form.cleaned_data["user"], action="ram:GetUser")
            services.group_add_user(actor=principal, group=group, user=user)
        except IamError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{user.name} added to {group.name}.")
    return redirect("groups:group_detail", name=group.name)


@require_http_methods(["GET", "POST"])
@handle_iam_errors
def member_remove(request: HttpRequest, name: str, user_name: str) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    group = selectors.get_group_for_actor(principal, name, action="ram:RemoveUserFromGroup")
    user = get_user_for_actor(principal, user_name, action="ram:GetUser")
    back = (
        request.POST.get("next")
        or request.GET.get("next")
        or reverse("groups:group_detail", args=[group.name])
    )
    if not back.startswith("/console/"):
        back = reverse("groups:group_detail", args=[group.name])
    if request.method == "POST":
        try:
            services.group_remove_user(actor=principal, group=group, user=user)
        except IamError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{user.name} removed from {group.name}.")
        return redirect(back)
    return confirm(
        request,
        title=f"Remove {user.name} from {group.name}?",
        message="The user loses the group's permissions immediately.",
        action_url=reverse("groups:member_remove", args=[group.name, user.name]),
        cancel_url=back,
        button="Remove",
        fields={"next": back},
    )


@require_POST
@handle_iam_errors
def user_join_group(request: HttpRequest, name: str) -> HttpResponse:
    """From a user's page: add the user to a chosen group."""
    principal = request.principal  # type: ignore[attr-defined]
    user = get_user_for_actor(principal, name)
    form = GroupPickForm(request.POST)
    if form.is_valid():
        try:
            group = selectors.get_group_for_actor(
                principal, form.cleaned_data["group"], action="ram:AddUserToGroup"
            )
            services.group_add_user(actor=principal, group=group, user=user)
        except IamError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{user.name} added to {group.name}.")
    return redirect("accounts:user_detail", name=user.name)
