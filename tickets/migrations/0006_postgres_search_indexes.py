"""Search indexes that only PostgreSQL has: full-text (GIN on tsvector) and
trigram (pg_trgm) for identifiers such as ticket numbers and hostnames. On
SQLite the search falls back to plain filters and these are skipped."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # ticket_search(): the full-text document of subject, customer and messages.
    "CREATE INDEX IF NOT EXISTS ticket_search_fts_idx ON tickets_ticket USING gin (search_vector)",
    # ticket_search(): partial ticket numbers and identifiers in subjects.
    "CREATE INDEX IF NOT EXISTS ticket_number_trgm_idx ON tickets_ticket "
    "USING gin (number gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ticket_subject_trgm_idx ON tickets_ticket "
    "USING gin (subject gin_trgm_ops)",
    # article_search(): the knowledge base's full text.
    "CREATE INDEX IF NOT EXISTS article_fts_idx ON tickets_article USING gin ("
    "to_tsvector('simple', title || ' ' || symptom || ' ' || cause || ' ' || solution))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS article_fts_idx",
    "DROP INDEX IF EXISTS ticket_subject_trgm_idx",
    "DROP INDEX IF EXISTS ticket_number_trgm_idx",
    "DROP INDEX IF EXISTS ticket_search_fts_idx",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_search_and_external_ref")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
