"""`make bench`: throughput and latency figures of FastFaktura, each against a baseline.

Run with `python -m tests.bench` (or `make bench`). One run starts its own embedded PostgreSQL and
a real `fastfaktura serve` process, runs every scenario of `registry.SCENARIOS` in order, prints a
table and writes `.fastfaktura-bench/results.json`. Nothing here is a pytest test.

Layout:
- `environment.py`: the embedded PostgreSQL, the server subprocess, the account, CPU accounting;
- `http.py`: the load generator's raw keep-alive HTTP/1.1 client (asyncio streams);
- `figures.py`: figures, baselines, goals, the report (rich table and JSON);
- `goals.py`: the rows and goals the issues require, and the summary that ends a run (each
  goal met or NOT met, a missing row listed as not measured);
- `registry.py`: the scenario registry and the settings. Add a scenario with `@scenario(...)`;
- `scenarios.py`: the clients and raw event-store append scenarios, and the shared load loop;
- `invoices.py`: POST /invoices, GET /invoices/{id} against `bare_app.py` (a bare Litestar +
  asyncpg app, run as its own uvicorn process);
- `store.py`: a generated store of `--events N` invoice events (default 1,000,000) in its own
  database: `fastfaktura projections rebuild --all` and `fastfaktura audit replay` (the real CLI,
  as subprocesses), and GET /invoices?status=draft on a server over it.
- `rate_limits.py`: what the rate limiter adds to a request (GET /business on a server with and
  without limits, and its query alone).
"""
