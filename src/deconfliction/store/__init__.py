"""Storage: SQL schema, migrations and the database handle (SQLite default, PostgreSQL)."""
