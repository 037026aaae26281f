from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    from inventory.seed import seed_locations

    seed_locations(apps.get_model("inventory", "Location"))


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
