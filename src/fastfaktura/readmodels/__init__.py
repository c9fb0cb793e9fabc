"""The read side: read models built from the event log by projections.

Each read model maps an aggregate's state to rows (one pure function); the live runner, the
batched catch-up and rebuild, and the audit all go through that one mapping. The SQL of each
read model lives in projections/<name>/ (apply.sql for psycopg, queries.sql for asyncpg).
"""
