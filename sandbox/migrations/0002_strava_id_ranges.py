"""Start ids in Strava's ranges: activity, upload and effort ids exceed 32 bits, as real ones do,
and each kind of object has its own range, so a client that mixes them up fails loudly."""

from django.db import migrations

STARTS = {
    "sandbox_simathlete": 30_000_000,
    "sandbox_simsegment": 5_000_000,
    "sandbox_simactivity": 12_000_000_000,
    "sandbox_simsegmenteffort": 3_100_000_000_000,
    "sandbox_simupload": 13_000_000_000,
    "sandbox_simpushsubscription": 200_000,
}


def start_sequences(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table, start in STARTS.items():
            if connection.vendor == "sqlite":
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start])
            elif connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, start])
            elif connection.vendor == "mysql":
                cursor.execute(f"ALTER TABLE {table} AUTO_INCREMENT = {start + 1}")


class Migration(migrations.Migration):
    dependencies = [("sandbox", "0001_initial")]

    operations = [migrations.RunPython(start_sequences, migrations.RunPython.noop)]
