from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from policies.principal import Principal


def events_for(actor: Principal, query: str = "") -> QuerySet[AuditEvent]:
    """The actor's account's events, newest first, optionally filtered by a search string."""
    events = AuditEvent.objects.filter(account_id=actor.account_id)
    if query:
        events = events.filter(
            Q(action__icontains=query)
            | Q(actor_arn__icontains=query)
            | Q(target_arn__icontains=query)
            | Q(error_code__icontains=query)
        )
    return events.order_by("-id")
