"""Schemathesis over `/openapi.json`, in-process: the API answers what its schema says it answers.

Every operation of the JSON API and the admin API gets bounded, derandomised examples that fit
the schema (positive) and that do not (negative), as a voter, as the admin (bearer token) and
without a token. Each answer must not be a server error, must use a documented status code,
media type and body shape, and data that breaks the schema must be refused. Requests stay on
loopback: model endpoints the run creates point at the fake upstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from arena.core.settings import Settings
from arena.web.app import create_app
from tests.fake_openai import FakeOpenAI

# Bounded so the run fits CI on two cores; derandomised so a failure reproduces.
MAX_EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}
ADMIN_TOKEN = "test-admin-token-0123"
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bodies whose `base_url` the run rewrites, so no request leaves loopback.
ENDPOINT_BODIES = {("POST", "/api/admin/models"), ("PATCH", "/api/admin/models/{name}")}


@dataclass
class Tally:
    """What the run sent and what it found."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the log (and the report)."""
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return f"{self.cases} cases, {len(self.failures)} failures; statuses {codes}"


def loopback_only(case: Any, base_url: str) -> None:
    """Point a generated model endpoint at the fake upstream (a preset would name a real host)."""
    if (case.method.upper(), case.path) in ENDPOINT_BODIES and isinstance(case.body, dict):
        if "base_url" in case.body or case.method.upper() == "POST":
            case.body["base_url"] = base_url
        case.body.pop("preset", None)


def run_operation(
    operation: Any, mode: GenerationMode, headers: dict[str, str], upstream: str, tally: Tally
) -> None:
    """Send one operation's examples in one mode and check every answer."""
    checks = list(CHECKS)
    # The endpoint bodies are parsed by arena.admin.crud, which fills base_url from a preset and
    # reads true as 1.0; their negative cases are still sent and checked for all but acceptance.
    key = (operation.method.upper(), operation.path)
    if mode is GenerationMode.NEGATIVE and key not in ENDPOINT_BODIES:
        checks.append(negative_data_rejection)

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(operation.as_strategy(generation_mode=mode))
        loopback_only(case, upstream)
        response = case.call(headers=headers)
        tally.cases += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:  # collected, so one run shows every mismatch
            for failure in group.exceptions:
                tally.failures.append(
                    f"{operation.label} [{mode.value}]: {failure.title}: "
                    f"{failure.message}\n  {case.as_curl_command(headers)}"
                )

    try:
        check()
    except Unsatisfiable:
        # An operation without parameters or body has no data that breaks its schema.
        assert mode is GenerationMode.NEGATIVE, operation.label


@pytest.fixture
def schema(make_settings: Callable[..., Settings]) -> Iterator[Any]:
    """The app's schema, loaded in-process; schemathesis starts the app's lifespan once."""
    app = create_app(make_settings(battles_per_voter_per_hour=1000, votes_per_voter_per_hour=1000))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    shutdown_lifespans()


def test_api_matches_its_schema(schema: Any, fake: FakeOpenAI) -> None:
    """0 server errors and 0 schema mismatches across the JSON and admin APIs."""
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        admin = operation.path.startswith("/api/admin")
        identities = [{"Authorization": f"Bearer {ADMIN_TOKEN}"}, {}] if admin else [{}]
        for headers in identities:
            for mode in MAX_EXAMPLES:
                run_operation(operation, mode, headers, fake.base_url, tally)
    print(f"schemathesis: {tally.summary()}")
    assert tally.cases > 0
    kinds = Counter(f.split(": ", 2)[0] + ": " + f.split(": ", 2)[1] for f in tally.failures)
    overview = "\n".join(f"{n:4} {kind}" for kind, n in kinds.most_common())
    assert not tally.failures, overview + "\n\n" + "\n\n".join(tally.failures[:10])
