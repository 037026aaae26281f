from django.db import migrations


def seed(apps, schema_editor):
    from tickets.seed import seed_reference_data

    seed_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_tickets")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
