"""Console plumbing shared by the apps' views: error pages, pagination, confirmation."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from accounts.errors import IamError, NoPermission, NotFound

PAGE_SIZE = 25


def handle_iam_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Render NoPermission as a readable 403 and NotFound as 404 (objects of other accounts too)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NoPermission as exc:
            return render(request, "errors/403.html", {"error": exc}, status=403)
        except NotFound as exc:
            return render(request, "errors/404.html", {"error": exc}, status=404)

    return wrapped


def paginate(request: HttpRequest, queryset: QuerySet[Any], size: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def render_error(
    request: HttpRequest, template: str, context: dict[str, Any], error: IamError
) -> HttpResponse:
    """Re-render a form page with the service's message; 4xx so nothing looks like success.

    Permission and not-found errors are re-raised for handle_iam_errors to render.
    """
    if isinstance(error, NoPermission | NotFound):
        raise error
    context = {**context, "service_error": error.message}
    return render(request, template, context, status=400 if error.status < 500 else 500)


def confirm(
    request: HttpRequest,
    *,
    title: str,
    message: str,
    action_url: str,
    cancel_url: str,
    button: str = "Delete",
    details: list[str] | None = None,
    fields: dict[str, str] | None = None,
) -> HttpResponse:
    """The confirmation page every destructive action goes through."""
    return render(
        request,
        "components/confirm.html",
        {
            "title": title,
            "message": message,
            "action_url": action_url,
            "cancel_url": cancel_url,
            "button": button,
            "details": details or [],
            "fields": fields or {},
        },
    )
