"""Plumbing for `seed_bulk` and the apps' bulk modules (tickets/bulk.py, changes/bulk.py,
inventory/bulk.py, backups/bulk.py): ids taken before the insert, rows written with COPY on
PostgreSQL (bulk_create elsewhere), and event rows.

Ids are taken first (`ids_take`) so that a row's number (T-000123, C-000123, ...) and every
row pointing at it can be written in the same pass: no numbering UPDATE that rewrites each row
afterwards, and COPY, which returns no ids, can be used for the large tables. On PostgreSQL
the ids come from the table's own sequence, so they never clash with rows the application
inserts. On SQLite they continue after the highest id; the seeding run holds the write lock
for its whole transaction there, so nobody inserts in between.

No model's save(), no signals and no services run here: the callers build rows that already
respect every constraint, and write them in bulk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from events.models import Event

# SQLite: the highest id handed out per table in this process, so two takes before an
# insert do not overlap. PostgreSQL: the name of each table's id sequence.
_taken: dict[str, int] = {}
_sequences: dict[str, str] = {}


def ids_take(model: type[models.Model], count: int) -> list[int]:
    """`count` unused primary keys of `model`'s table, ascending."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if table not in _sequences:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                _sequences[table] = cursor.fetchone()[0]
            # The sequence named once: pg_get_serial_sequence per row costs eight times more.
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [_sequences[table], count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(f"SELECT max(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        first = max(cursor.fetchone()[0] or 0, _taken.get(table, 0)) + 1
    _taken[table] = first + count - 1
    return list(range(first, first + count))


def rows_insert(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert rows given as value tuples in the order of `columns` (attnames, foreign keys
    as `*_id`, the id included). Columns left out get the field's default, per row (a
    callable default such as uuid4 is called for each). Returns the number of rows."""
    fields = {field.attname: field for field in model._meta.concrete_fields}
    unknown = set(columns) - fields.keys()
    if unknown or "id" not in columns:
        raise ValueError(f"{model.__name__}: unknown columns {sorted(unknown)} or no id")
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects, batch_size=2000)
        return len(objects)
    rest = [field for name, field in fields.items() if name not in columns]
    names = [*columns, *(field.attname for field in rest)]
    json_at = [i for i, name in enumerate(names) if isinstance(fields[name], models.JSONField)]
    count = 0
    with _copy(model, names) as copy:
        for row in rows:
            values = [*row, *(field.get_default() for field in rest)]
            for i in json_at:
                values[i] = json.dumps(values[i])
            copy.write_row(values)
            count += 1
    return count


def objects_insert(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert model instances whose primary keys are set already (from ids_take)."""
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects, batch_size=2000)
        return
    fields = model._meta.concrete_fields
    json_at = [i for i, field in enumerate(fields) if isinstance(field, models.JSONField)]
    names = [field.attname for field in fields]
    with _copy(model, names) as copy:
        for obj in objects:
            values = [getattr(obj, name) for name in names]
            for i in json_at:
                values[i] = json.dumps(values[i])
            copy.write_row(values)


@contextmanager
def _copy(model: type[models.Model], names: Sequence[str]) -> Iterator[Any]:
    """COPY ... FROM STDIN on the connection's psycopg cursor. Much faster than INSERT:
    bulk_create spends most of its time preparing and quoting each value in Python."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(name) for name in names)
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            yield copy


# --- Events -------------------------------------------------------------------------------


class EventRow(NamedTuple):
    """An events_event row, in column order. Every one is processed already: the outbox
    must not mail about history."""

    created_at: datetime
    actor_id: int | None
    actor_label: str
    content_type_id: int
    object_id: int
    object_ref: str
    kind: str
    from_state: str
    to_state: str
    reason: str
    data: dict[str, Any]
    processed_at: datetime


def content_type_id(model: type[models.Model]) -> int:
    return ContentType.objects.get_for_model(model).pk


def event_row(
    *,
    content_type: int,
    object_id: int,
    object_ref: str,
    kind: str,
    at: datetime,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> EventRow:
    """An event as event_record would write it, `actor` a User or None (the system)."""
    return EventRow(
        created_at=at,
        actor_id=actor.pk if actor is not None else None,
        actor_label=actor.username if actor is not None else "system",
        content_type_id=content_type,
        object_id=object_id,
        object_ref=object_ref,
        kind=kind,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
        processed_at=at,
    )


def events_insert(rows: Sequence[EventRow]) -> int:
    """The event log is the largest table (about six rows per ticket): COPY on PostgreSQL,
    bulk_create elsewhere. Event ids are not needed by anything, so none are taken."""
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        Event.objects.bulk_create((Event(**row._asdict()) for row in rows), batch_size=2000)
        return len(rows)
    with _copy(Event, EventRow._fields) as copy:
        for row in rows:
            copy.write_row([*row[:-2], json.dumps(row.data), row.processed_at])
    return len(rows)
