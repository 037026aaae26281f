from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from tickets.services import resolved_tickets_close
from tickets.sla_services import contract_tickets_recompute, sla_sweep


@shared_task(name="tickets.sweep_sla")
def sweep_sla() -> dict[str, int]:
    """Every minute: SLA warnings and breaches that came due, each once."""
    return sla_sweep(now=timezone.now())


@shared_task(name="tickets.close_resolved")
def close_resolved() -> int:
    """Closes tickets whose resolution the customer left unanswered."""
    return resolved_tickets_close(now=timezone.now())


@shared_task(name="tickets.recompute_contract")
def recompute_contract(contract_id: int) -> int:
    """After a contract's targets or calendar changed: recompute its open tickets."""
    return contract_tickets_recompute(contract_id=contract_id, now=timezone.now())
