"""The scaling table (issue 12): POST /api/v1/clients and GET /api/v1/invoices/{id} at 1, 2 and
4 API processes (`fastfaktura serve --no-projections --workers N`, on the main server's
database; the main server runs the projections for all of them), in the same run, each ratio
against N = 1; and the RSS of every API process under that load (goal <= 250 MB). Like
`invoices_get_load`, the servers run with the per-key limit on, never refusing (production's
work per request: the token taken with the key, the GET's read in the same statement). One
more row: GET at the largest N with the API key cache on (API_KEY_CACHE_SECONDS), which only
serves where the per-key limit is off, so that row runs without it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import psutil

from tests.bench import http
from tests.bench.environment import HOST, free_port
from tests.bench.figures import Figure, Goal
from tests.bench.invoices import (
    INVOICES,
    LIMIT_ON_NEVER_REFUSED,
    _create_invoices,
    _load,
    _rotating_gets,
)
from tests.bench.registry import Bench, scenario
from tests.bench.scenarios import CLIENTS, Op, _client_body, _errors_note, _numbers

PROCESSES = (1, 2, 4)
GET_IDS = 50
RSS_GOAL_MB = 250.0
MB = 1024 * 1024


class RssSampler:
    """The peak RSS of each API process (the server and its children, less the PDF pool's
    multiprocessing helpers), sampled every 0.2 s from a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def _api_processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.pid)
        found = [root]
        for child in root.children(recursive=True):
            try:
                if "multiprocessing" not in " ".join(child.cmdline()):
                    found.append(child)
            except psutil.Error:
                continue
        return found

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                processes = self._api_processes()
            except psutil.Error:
                continue
            for process in processes:
                try:
                    rss = process.memory_info().rss / MB
                except psutil.Error:
                    continue
                self.peaks[process.pid] = max(self.peaks.get(process.pid, 0.0), rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _posts(connections: Sequence[http.Connection]) -> list[Op]:
    def op(conn: http.Connection) -> Op:
        async def post() -> str | None:
            response = await conn.send(conn.prepare("POST", CLIENTS, _client_body(next(_numbers))))
            return None if response.status == 201 else f"HTTP {response.status}"

        return post

    return [op(c) for c in connections]


async def _measure(
    bench: Bench,
    n: int,
    paths: list[str],
    env_extra: dict[str, str],
    label: str,
    *,
    with_posts: bool = True,
) -> dict[str, float]:
    """One server of n API processes: a POST window and a GET window; their rates and the
    peak RSS of its processes."""
    env = bench.env
    port = free_port()
    server = env.serve(
        label,
        env.database_url,
        port,
        env.workdir / f"scaling-{label.replace(' ', '_')}.log",
        env=env_extra,
        args=["--no-projections", "--workers", str(n)],
        api_processes=n,
    )
    headers = {"X-Api-Key": env.account.api_key}
    server_is = f"`serve --workers {n}` (every process of it)"
    figures: dict[str, float] = {}
    try:
        assert server.pid is not None
        with RssSampler(server.pid) as rss:
            many = bench.settings.connections
            if with_posts:
                connections = [http.Connection(HOST, port, headers) for _ in range(many)]
                posts = await _load(
                    bench,
                    connections,
                    _posts(connections),
                    env.cpu_meter(f"{label} POST", server, server_is),
                )
                posts.cpu.server_processes = n
                bench.cpu.append(posts.cpu)
                _errors_note(bench, f"{label} POST /clients", posts)
                figures["post"] = posts.rate
            connections = [http.Connection(HOST, port, headers) for _ in range(many)]
            ops = [_rotating_gets(c, paths, i * 7, b'"lines"') for i, c in enumerate(connections)]
            gets = await _load(
                bench, connections, ops, env.cpu_meter(f"{label} GET", server, server_is)
            )
            gets.cpu.server_processes = n  # CPU-bound means n cores busy, not one
            bench.cpu.append(gets.cpu)
            _errors_note(bench, f"{label} GET /invoices/{{id}}", gets)
            figures["get"] = gets.rate
        figures["rss"] = max(rss.peaks.values(), default=float("nan"))
        figures["processes"] = float(len(rss.peaks))
    finally:
        await asyncio.to_thread(server.stop)
    return figures


def scaling_figures(
    measured: dict[int, dict[str, float]], cached: dict[str, float] | None, connections: int
) -> list[Figure]:
    """The table's rows: rates against N = 1, RSS against its goal."""
    figures: list[Figure] = []
    for n, got in measured.items():
        base = None if n == PROCESSES[0] else f"scale_{{}}_{PROCESSES[0]}"
        figures.append(
            Figure(
                f"scale_post_{n}",
                f"POST /api/v1/clients x{connections}, {n} API process{'es' * (n > 1)}",
                got["post"],
                "req/s",
                baseline=base.format("post") if base else None,
            )
        )
        figures.append(
            Figure(
                f"scale_get_{n}",
                f"GET /api/v1/invoices/{{id}} x{connections}, {n} API process{'es' * (n > 1)}",
                got["get"],
                "req/s",
                baseline=base.format("get") if base else None,
            )
        )
        figures.append(
            Figure(
                f"scale_rss_{n}",
                f"peak RSS of an API process under load, {n} API process{'es' * (n > 1)}",
                got["rss"],
                "MB",
                goal=Goal("value", "<=", RSS_GOAL_MB),
                detail={"processes_sampled": got["processes"]},
            )
        )
    if cached is not None:
        top = max(measured)
        figures.append(
            Figure(
                f"scale_get_{top}_key_cache",
                f"GET /api/v1/invoices/{{id}} x{connections}, {top} API processes, key cache on",
                cached["get"],
                "req/s",
                baseline=f"scale_get_{top}",
            )
        )
    return figures


@scenario(
    "serve_scaling",
    "POST /clients and GET /invoices/{id} at 1, 2 and 4 API processes; RSS per process",
    timeout=lambda s: 4 * (3 * (s.warmup + s.duration) + 120),
)
async def serve_scaling(bench: Bench) -> list[Figure]:
    ids = await _create_invoices(bench, GET_IDS)
    paths = [f"{INVOICES}/{i}" for i in ids]
    bench.client("scaling load", http.DESCRIPTION)
    measured = {}
    for n in PROCESSES:
        bench.say(f"serve --no-projections --workers {n} ...")
        measured[n] = await _measure(bench, n, paths, LIMIT_ON_NEVER_REFUSED, f"workers {n}")
    top = max(PROCESSES)
    bench.say(f"serve --no-projections --workers {top}, API_KEY_CACHE_SECONDS=30, no limit ...")
    cached = await _measure(
        bench,
        top,
        paths,
        {"API_KEY_CACHE_SECONDS": "30"},
        f"workers {top} key cache",
        with_posts=False,
    )
    bench.notes.append(
        "scaling: the API processes share the machine with the load generator (one Python"
        " process), the main server (it runs the projections) and PostgreSQL: on 2 cores, more"
        " API processes than cores measure the scheduler as much as the service."
    )
    return scaling_figures(measured, cached, bench.settings.connections)
