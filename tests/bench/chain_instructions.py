"""`python -m tests.bench.chain_instructions`: what the hash chain costs an append, counted in
CPU instructions of the PostgreSQL backend (docs/audit.md, "Where the last 10 % would have to
come from").

Wall time and CPU time on a shared 2-core machine vary by 10-30 % from run to run, too much to
tell a 20 µs change in the trigger from noise. Instructions do not vary: each setting runs the
same appends through `postgres --single` under valgrind's callgrind, once with 40 appends and
once with 240, and the difference divided by 200 is the cost of one append, start-up excluded.

Settings (each append: 2 events, a created record naming its business and the next version of
a "series" aggregate, as creating an invoice writes; through `invoicing_events_append`):
- off: the chain trigger disabled (the chain columns left empty), as `chain_append`'s "off";
- storage: trigger disabled, constant chain values written: what storing and indexing the
  chain columns cost, without computing anything;
- on: as migrated.
For "on" it also prints the share of SHA-256 and of the trigger as a whole.

`--bin DIR` counts on another PostgreSQL installation instead of the embedded one, in a data
directory of its own (e.g. `--bin /usr/lib/postgresql/15/bin`: Debian's, built with OpenSSL,
whose SHA-256 uses the CPU's SHA extensions; the embedded server's is PostgreSQL's own C).

Needs valgrind (Debian: `apt install valgrind`); takes about a minute. Not part of `make bench`:
it measures one mechanism, not the service.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg

from tests.bench.environment import private_runtime_dir

SHORT, LONG = 40, 240
FUNCTIONS = ("sha256_bytea", "plpgsql_exec_trigger")
OFF = (
    "ALTER TABLE invoicing_events DISABLE TRIGGER invoicing_events_chain",
    "ALTER TABLE invoicing_events ALTER COLUMN chain_business DROP NOT NULL,"
    " ALTER COLUMN chain_position DROP NOT NULL, ALTER COLUMN chain_hash DROP NOT NULL",
)


def _append_storing_constants() -> str:
    """Migration 0030's append, also writing constant chain values (unique per event)."""
    from fastfaktura.adapters.database import sql_root

    source = (sql_root() / "migrations" / "0030_one_round_trip_append.sql").read_text()
    body = source[source.index("CREATE FUNCTION") :]
    columns = "(originator_id, originator_version, topic, state)"
    values = "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM"
    if columns not in body or values not in body:
        raise SystemExit("migration 0030's append changed: update this setting")
    return (
        body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        .replace(
            columns,
            "(originator_id, originator_version, topic, state, chain_business,"
            " chain_position, chain_hash)",
        )
        .replace(
            values,
            "SELECT e.originator_id, e.originator_version, e.topic, e.state,"
            " e.originator_id, e.originator_version, sha256(uuid_send(e.originator_id)) FROM",
        )
    )


def _state(business: uuid.UUID, topic: str, **fields: object) -> bytes:
    head: dict[str, object] = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00.000000+00:00"}
    }
    if topic:
        head |= {
            "originator_topic": topic,
            "business_id": {"_type_": "uuid_hex", "_data_": business.hex},
        }
    return json.dumps(head | fields, separators=(",", ":")).encode()


def _script(appends: int) -> str:
    """One statement per append, each its own transaction (single-user mode autocommits)."""
    business, series = uuid.uuid4(), uuid.uuid4()
    statements = []
    for version in range(1, appends + 1):
        fresh = uuid.uuid4()
        created = _state(business, "bench:Invoice", name="Bench client", lines="x" * 400)
        events = [(fresh, 1, "bench:Invoice.Created", created)]
        if version == 1:
            events.append((series, 1, "bench:Series.Created", _state(business, "bench:Series")))
        else:
            state = _state(business, "", sequence=version, invoice_id=str(fresh))
            events.append((series, version, "bench:Series.NumberAllocated", state))
        rows = ", ".join(
            f"ROW('{o}'::uuid, {v}, '{t}', '\\x{s.hex()}'::bytea)::stored_event_uuid"
            for o, v, t, s in events
        )
        statements.append(f"SELECT invoicing_events_append(ARRAY[{rows}], '0s');\n")
    return "\n".join(statements)  # -j: a statement ends at a semicolon before an empty line


class Cluster:
    """A PostgreSQL's binaries and data directory, driven as the directory's owner: the
    embedded server's, or (`bin_dir`) another installation's, in a data directory made here."""

    def __init__(self, home: Path, bin_dir: Path | None = None):
        from fastfaktura.adapters.database import migrate, start_embedded

        if bin_dir is None:
            from pgserver._commands import POSTGRES_BIN_PATH

            self.bin = POSTGRES_BIN_PATH
            self.url = start_embedded(home, keep_running=True)
            self.data = (home / "pg").resolve()
        else:
            self.bin = bin_dir
            self.data = (home / "pg").resolve()
            self.data.mkdir(parents=True)
            if os.getuid() == 0:  # PostgreSQL refuses root: the embedded server's user
                shutil.chown(home, "pgserver")
                shutil.chown(self.data, "pgserver")
        owner = os.stat(self.data).st_uid
        self.as_owner = [] if owner == os.getuid() else ["runuser", "-u", pwd.getpwuid(owner)[0]]
        self.socket = self.data  # as pgserver does: the socket in the data directory
        if bin_dir is not None:
            self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"])
            self._ctl("start")
            self.url = f"postgresql://postgres:@/postgres?host={self.socket}"
        migrate(self.url)
        self._ctl("stop")

    def _run(self, command: list[str]) -> None:
        subprocess.run([*self.as_owner, "--", *command] if self.as_owner else command, check=True)

    def _ctl(self, action: str) -> None:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", action]
        if action == "start":
            command += ["-o", f"-h '' -k {self.socket}", "-l", str(self.data / "bench.log")]
        else:
            command += ["-m", "fast"]
        self._run(command)

    def apply(self, statements: tuple[str, ...]) -> None:
        self._ctl("start")
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                for statement in statements:
                    conn.execute(statement)  # type: ignore[arg-type]
        finally:
            self._ctl("stop")

    def count(self, script: str, out: Path) -> tuple[int, dict[str, int]]:
        """Instructions of a single-user backend running `script`, and of FUNCTIONS within."""
        path = out.with_suffix(".sql")
        path.write_text(script)
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            str(self.bin / "postgres"),
            "--single",
            "-j",
            "-D",
            str(self.data),
            "postgres",
        ]
        with path.open() as stdin:
            done = subprocess.run(
                [*self.as_owner, "--", *command] if self.as_owner else command,
                stdin=stdin,
                capture_output=True,
                text=True,
            )
        total = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode or not total or "ERROR" in done.stdout:
            raise SystemExit(
                f"postgres --single failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        annotated = subprocess.run(
            ["callgrind_annotate", "--inclusive=yes", str(out)], capture_output=True, text=True
        ).stdout
        within = {}
        for name in FUNCTIONS:
            found = re.search(rf"^\s*([\d,]+) .*:{name} \[", annotated, re.MULTILINE)
            within[name] = int(found.group(1).replace(",", "")) if found else 0
        return int(total.group(1)), within


def main() -> None:
    bin_dir = Path(sys.argv[2]) if sys.argv[1:2] == ["--bin"] else None
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind not found (Debian: apt install valgrind)")
    private_runtime_dir()
    with tempfile.TemporaryDirectory(prefix="ff-chain-instr-") as tmp:
        work = Path(tmp)
        work.chmod(0o777)  # the server's owner writes the callgrind files here
        cluster = Cluster(work / "home", bin_dir)
        per_append: dict[str, float] = {}
        settings = {"on": (), "off": OFF, "storage": (*OFF, _append_storing_constants())}
        for name, statements in settings.items():  # in this order: each builds on the last
            cluster.apply(statements)
            short, _ = cluster.count(_script(SHORT), work / f"{name}-{SHORT}.out")
            long, within_long = cluster.count(_script(LONG), work / f"{name}-{LONG}.out")
            per_append[name] = (long - short) / (LONG - SHORT)
            print(f"{name:8s} {per_append[name] / 1000:7.1f} k instructions per append")
            if name == "on":
                for function, count in within_long.items():
                    print(f"         {function}: {count / LONG / 1000:.1f} k per append")
        off = per_append["off"]
        for name in ("storage", "on"):
            extra = per_append[name] - off
            print(f"{name} - off: {extra / 1000:+.1f} k ({extra / off:+.0%} of off)")


if __name__ == "__main__":
    sys.exit(main())
