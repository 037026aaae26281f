"""The floor: what this stack (Django, gunicorn, PostgreSQL on this machine)
costs for the queue's first 25 rows when nothing else happens. One raw SQL
query in the queue's order, rows as JSON: no session, no user, no
permission check, no template, no count. The queue page and the API list are
compared with it; it is the peer harness's `ref/open25` for this schema."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse

FLOOR_ROWS = 25
COLUMNS = (
    "number",
    "customer_number",
    "customer_name",
    "subject",
    "priority",
    "status",
    "assignee",
    "resolution_due_at",
)
# tickets.selectors.queue_tickets with no filter, as a staff member sees it:
# unclosed tickets in queue_order. `NOT (status = 'closed')` is the predicate
# of the partial ticket_queue_idx, so the scan walks that index and stops
# after 25 rows, as the queue's own row query does.
SQL = """
SELECT t.number, c.number, c.name, t.subject, t.priority, t.status, u.username,
       t.resolution_due_at
  FROM tickets_ticket t
  LEFT JOIN accounts_customer c ON c.id = t.customer_id
  LEFT JOIN accounts_user u ON u.id = t.assignee_id
 WHERE NOT (t.status = 'closed')
 ORDER BY t.classified ASC, t.resolution_due_at ASC NULLS LAST, t.is_managed DESC,
          t.priority ASC, t.created_at ASC
 LIMIT %s
"""


def floor_rows() -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(SQL, [FLOOR_ROWS])
        return [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def queue_floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"rows": floor_rows()})
