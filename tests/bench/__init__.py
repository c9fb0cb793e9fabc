"""`make bench`: throughput and latency figures of FastFaktura, each against a baseline.

Run with `python -m tests.bench` (or `make bench`). One run starts its own embedded PostgreSQL and
a real `fastfaktura serve` process, runs every scenario of `scenarios.SCENARIOS` in order, prints a
table and writes `.fastfaktura-bench/results.json`. Nothing here is a pytest test.

Layout:
- `environment.py`: the embedded PostgreSQL, the server subprocess, the account, CPU accounting;
- `http.py`: the load generator's raw keep-alive HTTP/1.1 client (asyncio streams);
- `figures.py`: figures, baselines, goals, the report (rich table and JSON);
- `scenarios.py`: the scenario registry and the scenarios. Add one with `@scenario(...)`.
"""
