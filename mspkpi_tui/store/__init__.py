"""SQLModel tables, engine set-up, migrations and upserts."""
