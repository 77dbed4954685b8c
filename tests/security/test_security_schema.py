"""Property-based API testing against the server's own OpenAPI schema (schemathesis 4, real uvicorn).

* every operation, valid and invalid inputs (positive and negative generation), with real
  credentials: no 5xx, and for valid inputs only the status codes the schema documents;
* every protected operation without credentials: never a 2xx;
* signed-record fuzzing: bodies a terminal really signed, with one field replaced by hostile JSON,
  pushed and authorized: 200 or 422, never a 5xx, and the ledger still reconciles.

Seeded (``derandomize``) and bounded: ``ENNICHI_SECURITY_EXAMPLES`` examples per operation and mode
(default 15, about 20 s).  Long run: ``ENNICHI_SECURITY_EXAMPLES=500 pytest tests/security -k schema``.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from security_harness import Event

from server.reconcile import reconcile
from sync.ids import new_record_id

EXAMPLES = int(os.environ.get("ENNICHI_SECURITY_EXAMPLES", "15"))
PUBLIC = {"GET /api/v1/health", "POST /api/v1/enroll"}
TERMINAL_OPS = {"POST /api/v1/push", "POST /api/v1/pull", "POST /api/v1/authorize"}


def _settings(examples: int = EXAMPLES) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def schema(event: Event) -> Any:
    return schemathesis.openapi.from_url(f"{event.url}/openapi.json")


def _operations(schema: Any) -> list[Any]:
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) >= 9
    return ops


def _auth(event: Event, label: str) -> dict[str, str]:
    """A terminal's token for the terminal calls, the admin's staff token for the rest."""
    holder = "t_stall" if label in TERMINAL_OPS else "admin"
    return {"Authorization": f"Bearer {event.creds[holder].bearer}"}


def _run(op: Any, mode: GenerationMode, call: Any) -> int:
    """Run ``call(case)`` over the operation's generated cases; returns how many ran."""
    ran = 0

    @_settings()
    @given(case=op.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        nonlocal ran
        ran += 1
        call(case)

    try:
        check()
    except Exception as exc:
        if type(exc).__name__ == "Unsatisfiable":  # e.g. no invalid input exists for GET /health
            return ran
        raise
    return ran


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors_with_credentials(event: Event, schema: Any, mode: GenerationMode) -> None:
    checks = [not_a_server_error] + ([status_code_conformance] if mode is GenerationMode.POSITIVE else [])
    total = 0
    for op in _operations(schema):
        headers = _auth(event, op.label)
        total += _run(op, mode, lambda case, h=headers: case.call_and_validate(
            base_url=event.url, headers=h, checks=checks, timeout=30))
    assert total >= EXAMPLES * 5


def test_no_access_without_credentials(event: Event, schema: Any) -> None:
    seen: dict[str, set[int]] = {}

    def call(case: Any) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        resp = case.call(base_url=event.url, timeout=30)
        seen.setdefault(case.operation.label, set()).add(resp.status_code)
        assert not 200 <= resp.status_code < 300, f"{case.operation.label} answered {resp.status_code} anonymously"
        assert resp.status_code < 500

    for op in _operations(schema):
        if op.label not in PUBLIC:
            _run(op, GenerationMode.POSITIVE, call)
    assert seen and all(codes <= {401, 413, 422} for codes in seen.values()), seen


HOSTILE = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, -1, 1, 2**31, 2**40, 2**53 + 1, 2**63, -(2**63) - 1, 10**30]),
    st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["", "³", "٣", "1e3", "NaN", "K7M2-QX4P-9", "'; DROP TABLE records; --", "\x00", "ｓａｌｅ",
                     "00000000-0000-0000-0000-000000000000", "checkin", "sale", "void", "refund", "topup"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _base_bodies(event: Event) -> list[dict[str, Any]]:
    term, ev = event.terminals["t_stall"], event
    wallet = ev.customer_wallet
    sale = term.sale(wallet_id=wallet, amount=100, staff_id=ev.staff["cashier"],
                     lines=[{"product_id": ev.product, "qty": 1, "unit_price": 100}])["body"]
    refund = term.refund(wallet_id=wallet, amount=50, staff_id=ev.staff["cashier"], ref_id=sale["id"])["body"]
    topup = term.topup(wallet_id=wallet, amount=10, staff_id=ev.staff["topup"])["body"]
    checkin = term.checkin(ticket_id=4242, ticket_type=ev.ticket_type, staff_id=ev.staff["cashier"],
                           gate_id=ev.gate)["body"]
    return [sale, refund, topup, checkin]


def test_signed_records_with_hostile_fields(event: Event) -> None:
    """Past the signature check: bodies the terminal signed, one field hostile; never a 5xx or a broken ledger."""
    term = event.terminals["t_stall"]
    bases = _base_bodies(event)
    statuses: dict[int, int] = {}

    @_settings(EXAMPLES * 4)
    @given(base=st.sampled_from(bases), field=st.sampled_from(sorted({k for b in bases for k in b} | {"extra"})),
           value=HOSTILE, drop=st.booleans(), path=st.sampled_from(["push", "authorize"]))
    def fuzz(base: dict[str, Any], field: str, value: Any, drop: bool, path: str) -> None:
        body = dict(base, id=str(new_record_id()))
        if drop:
            body.pop(field, None)
        else:
            body[field] = value
        try:
            signed = term.sign(body)
        except (TypeError, ValueError):  # not canonical-JSON encodable: a terminal cannot sign it either
            return
        payload = {"records": [signed]} if path == "push" else {"record": signed}
        resp = httpx.post(f"{event.url}/api/v1/{path}", json=payload, headers=term.headers, timeout=30)
        statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
        assert resp.status_code in (200, 422), (path, body, resp.status_code, resp.text[:300])

    fuzz()
    assert sum(statuses.values()) >= EXAMPLES
    with event.db.read() as conn:
        report = reconcile(conn)
    assert report.ok, report.text()
