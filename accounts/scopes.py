"""API token scopes. A token carries a list of these; `all` grants every one."""

from __future__ import annotations

ALL = "all"

SCOPES: dict[str, str] = {
    "customers:read": "Read customers",
    "customers:write": "Create and update customers (Admin.Arge sync)",
    "tasks:read": "Read tasks",
    "tasks:write": "Create and close tasks",
    "tickets:read": "Read tickets",
    "tickets:write": "Create tickets, add messages, change status",
    "callcards:write": "Register call cards (telephony)",
    "changes:read": "Read changes and the forward schedule",
    "changes:write": "Submit changes",
    "backups:read": "Read backup checks",
    "backups:write": "Report backup runs (the backup script)",
    "monitoring:write": "Report monitoring alerts",
    "inventory:read": "Read machines and stock",
    "inventory:write": "Register machines and stock",
}


def parse_scopes(text: str) -> list[str]:
    """Parse a comma list; raises ValueError naming every unknown scope."""
    names = [item.strip() for item in text.split(",") if item.strip()]
    if not names:
        raise ValueError("give at least one scope")
    if ALL in names:
        return [ALL]
    unknown = sorted(set(names) - SCOPES.keys())
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; known: all, {', '.join(SCOPES)}")
    return sorted(set(names))


def grants(token_scopes: list[str], needed: str) -> bool:
    return ALL in token_scopes or needed in token_scopes
