"""Benchmarks of the registry's hot paths on SQLite and PostgreSQL.

`python -m bench.run_all` seeds a long history (bulk inserts through storage's own row
mappings), then times the real plays (register, promote, rollback), what serving asks (the
production tag), and attribution inserts and lookups; it prints one JSON document.
"""
