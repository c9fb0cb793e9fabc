"""API conformance: Schemathesis fuzzes the running service from its own OpenAPI document.

Every operation is called with its documented examples and with generated cases (valid and
invalid), then sequences of calls follow the document's links (create a client, read, change
and archive it; create an invoice, send it, pay it, cancel it, read its events and PDF). Each
answer must be no server error, have a documented status code and content type, and match the
documented schema.

The service runs in-process (its ASGI app with projections and workers, as `fastfaktura
serve` runs it) on a database of its own, as a sandbox business: nothing leaves the machine
(sandbox deliveries are simulated, no Stripe key is configured) and no other test sees its data.

Reproducible and bounded: a fixed seed, derandomized generation, a bounded number of examples
per operation and of stateful steps, a deadline per example and a timeout per request.
CONFORMANCE_EXAMPLES (per operation), CONFORMANCE_SCENARIOS and CONFORMANCE_STEPS (stateful
scenarios, calls in each) and CONFORMANCE_SEED run it longer or differently (docs/operations.md,
"API conformance testing").
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import events, from_schema
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.python import asgi

from fastfaktura.api.app import create_app
from fastfaktura.config import RateLimitSettings, Settings
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import READ_MODELS
from tests.conftest import invoicing_on
from tests.helpers import drop_database, fresh_database

# The default seed is one whose walk makes an invoice for a client it made (the linked
# scenarios' assertion); each new operation changes the walk, so the seed moves with them:
# 20261208 since the validation, XML and logo operations (issue 14, 17). Most seeds pass
# (4 of 6 tried); a failing seed is a walk that never reached POST /invoices, not a defect.
SEED = int(os.environ.get("CONFORMANCE_SEED", "20261208"))
# Generated cases per operation (examples come on top): 10 keeps every operation called with
# valid and invalid input at half the cost of 20 (`make test`'s budget); raise it to soak.
EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "10"))
# Stateful scenarios: 20, the count the default seed's walk was chosen with.
SCENARIOS = int(os.environ.get("CONFORMANCE_SCENARIOS", "20"))
# 30: the webhook endpoints' own links (issue 16) share the walk; at 20 the default seed no
# longer reached an invoice made for a client of the same scenario.
STATEFUL_STEPS = int(os.environ.get("CONFORMANCE_STEPS", "30"))
# A hang is what it catches: the slowest honest answer (a PDF) takes well under a second.
REQUEST_TIMEOUT_SECONDS = 10
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Schemathesis takes a body field named `*_id` for a reference to another resource; these two
# are plain values (a SIREN, the caller's own id). Left as references, no scenario could start
# with POST /clients, whose `company_id` nothing produces.
NOT_REFERENCES = ("company_id", "external_id")


@dataclass
class Service:
    app: Any
    api_key: str


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    # Every operation of the document ("GET /api/v1/clients"), whether called or not.
    operations: set[str] = field(default_factory=set)

    def called(self) -> set[str]:
        return {answer.rsplit(" ", 1)[0] for answer in self.answers}


@pytest.fixture(scope="module")
def service(database_url: str) -> Iterator[Service]:
    """The service (API, projections, workers) on a database of its own, with a sandbox
    business: what it does leaves no trace in the suite's database."""
    url = fresh_database(database_url, "conformance")
    try:
        with invoicing_on(url) as invoicing:
            issued = invoicing.register_business("Conformance SARL", "sandbox").value
            for model in READ_MODELS:
                catch_up(event_reader(invoicing), url, model)
        # Without rate limits: a 429 is documented (it would pass), but it would cut the run short.
        settings = Settings(
            database_url=url,
            public_base_url="http://testserver",
            rate_limits=RateLimitSettings.off(),
        )
        try:
            yield Service(create_app(settings, url), issued.secret)
        finally:
            # Schemathesis started the app's lifespan when it first called it: stop it.
            asgi.shutdown_lifespans()
    finally:
        drop_database(database_url, url)


def run(service: Service, phases: dict[str, Any], examples: int) -> Outcome:
    """Schemathesis's engine (what `schemathesis run` does) on the in-process app, with our
    checks, seed and bounds; every failed check, as a line and a curl command."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # No state carried over from an earlier run: the same seed, the same run.
            "cache": {"enabled": False},
            "request-timeout": REQUEST_TIMEOUT_SECONDS,
            "headers": {"X-Api-Key": service.api_key},
            "generation": {
                "mode": "all",
                "max-examples": examples,
                "deterministic": True,
                "database": "none",
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": False},
                "fuzzing": {"enabled": False},
                "stateful": {"enabled": False},
                **phases,
            },
        }
    )
    # From the running app: the document as served, with what its startup adds.
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", service.app, config=config)
    for node in schema.analysis.dependency_graph.operations.values():
        node.inputs = [slot for slot in node.inputs if slot.resource_field not in NOT_REFERENCES]
    schema.hook("map_body")(_as_the_api_takes_it)
    outcome = Outcome(operations={op.ok().label for op in schema.get_all_operations()})
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(event.recorder, outcome)
        elif isinstance(event, events.NonFatalError):
            outcome.failures.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return outcome


def _as_the_api_takes_it(context: Any, body: Any) -> Any:
    return _fitting_categories(_cents_as_written(context, body))


def _fitting_categories(body: Any) -> Any:
    """Rules across fields a schema cannot state (API.md "E-invoices and legal checks"): a
    stated VAT category fits the line's rate (S above 0, the others 0), a reason goes with
    E, AE or G, an exchange rate is above 0. A generated body breaking them would only ever be
    refused (tests/api/test_e_invoicing_fields.py checks those 422s), and scenarios would
    rarely get an invoice: such parts are left out."""
    if isinstance(body, list):
        return [_fitting_categories(item) for item in body]
    if not isinstance(body, dict):
        return body
    body = {key: _fitting_categories(value) for key, value in body.items()}
    rate, category = body.get("tax_rate"), body.get("vat_category")
    if category is not None and isinstance(rate, int | float | str):
        try:
            positive = float(rate) > 0
        except ValueError:
            positive = None
        if positive is not None and positive != (category == "S"):
            body.pop("vat_category")
    if body.get("vat_category") not in ("E", "AE", "G"):
        body.pop("vat_exemption_reason", None)
    exchange = body.get("tax_exchange_rate")
    if isinstance(exchange, int | float | str) and not isinstance(exchange, bool):
        try:
            if float(exchange) <= 0:
                body.pop("tax_exchange_rate")
        except ValueError:
            pass
    return body


def _cents_as_written(_: Any, body: Any) -> Any:
    """JSON Schema counts 12.0 as an integer, the API takes amounts as written (API.md): a
    generated 12.0 would only ever be refused, and scenarios would rarely get an invoice."""
    if isinstance(body, dict):
        return {
            key: int(value)
            if key.endswith("_cents") and isinstance(value, float) and value.is_integer()
            else _cents_as_written(_, value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [_cents_as_written(_, item) for item in body]
    return body


def _collect(recorder: ScenarioRecorder, outcome: Outcome) -> None:
    for case_id, interaction in recorder.interactions.items():
        status = interaction.response.status_code if interaction.response else "no answer"
        outcome.answers[f"{recorder.cases[case_id].value.operation.label} {status}"] += 1
    for checks in recorder.checks.values():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            line = (
                f"{failure.operation} [{check.name}] {failure.title}: {failure.message}\n"
                f"    {check.failure_info.code_sample}"
            )
            outcome.failures.append(line)


def _report(outcome: Outcome) -> str:
    answers = "\n".join(f"  {key}: {count}" for key, count in sorted(outcome.answers.items()))
    return f"answers:\n{answers}"


def test_every_operation_answers_as_documented(service: Service) -> None:
    """Each operation: its documented examples, then generated cases, valid and invalid."""
    phases = {"examples": {"enabled": True}, "fuzzing": {"enabled": True}}
    outcome = run(service, phases, EXAMPLES)
    print(_report(outcome))
    assert not outcome.failures, "\n".join(outcome.failures)
    assert outcome.answers, "nothing was called"
    # The bound on generated cases leaves no operation out.
    assert outcome.operations <= outcome.called(), sorted(outcome.operations - outcome.called())


def test_linked_scenarios_answer_as_documented(service: Service) -> None:
    """Sequences that follow the document's links: client -> invoice -> send, pay, cancel."""
    # Valid data only (the per-operation test sends the invalid): scenarios get further.
    stateful = {"enabled": True, "max-steps": STATEFUL_STEPS, "generation": {"mode": "positive"}}
    outcome = run(service, {"stateful": stateful}, SCENARIOS)
    print(_report(outcome))
    assert not outcome.failures, "\n".join(outcome.failures)
    # The links were followed: invoices were made for clients made in the same scenario.
    assert outcome.answers["POST /api/v1/invoices 201"], _report(outcome)
