"""The tickets registry: issue one or many, CSV import, revocation; the CLI and the API over it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest
from gates_helpers import Festival
from sqlalchemy import func, select

from server import admin_cli
from server.db import tables as t
from server.issuer import IssuerKeys
from server.tickets import TicketError, import_tickets_csv, parse_tickets_csv, ticket_text
from sync.ids import format_short_id
from sync.keys import KeySet
from sync.tokens import EntryPolicy, TicketFlags, TicketToken, decode_token
from terminal.decisions import DeclineReason


def _admin(fest: Festival, *argv: str) -> int:
    return admin_cli.main(["--data-dir", str(fest.settings.data_dir), "--database-url", fest.settings.url, *argv])


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _ticket_rows(fest: Festival) -> int:
    with fest.seed.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.tickets)).scalar_one())


def test_cli_issues_tickets_a_gate_accepts(festival: Festival, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    fest = festival
    assert _admin(fest, "issue-tickets", "--type", str(fest.reentry), "--count", "3", "--holder", "Sato") == 0
    rows = _rows(capsys.readouterr().out)
    assert len(rows) == 3 and len({r["ticket_id"] for r in rows}) == 3
    assert all(r["policy"] == "reentry" and r["holder"] == "Sato" for r in rows)
    assert rows[0]["display_id"] == format_short_id(int(rows[0]["ticket_id"]))
    with fest.seed.db.read() as conn:
        keys = IssuerKeys(fest.settings.issuer_key_path)
        assert ticket_text(conn, rows[0]["display_id"], issuer=keys.active(conn)) == rows[0]["token"]
    gate = fest.gate(0)
    assert gate.scan(rows[0]["token"]).approved
    assert gate.scan(rows[0]["token"]).reason is DeclineReason.ALREADY_INSIDE
    # CSV import: a type column, holders, a window as ISO 8601 with a zone; written to a file
    source = tmp_path / "guests.csv"
    lines = ["\ufeffholder,type,valid_until", f"Aoi,{fest.single},", f"Ren,{fest.single},2099-01-01T00:00+09:00"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "issued.csv"
    assert _admin(fest, "issue-tickets", "--csv", str(source), "--out", str(out)) == 0
    issued = _rows(out.read_text(encoding="utf-8"))
    assert [r["holder"] for r in issued] == ["Aoi", "Ren"] and out.stat().st_mode & 0o077 == 0
    assert _admin(fest, "issue-tickets", "--csv", str(source), "--out", str(out)) == 1  # never overwrites
    assert gate.scan(issued[1]["token"]).approved
    # revoke at the server; the gate learns it by pull
    assert _admin(fest, "revoke-ticket", "--ticket", issued[0]["display_id"]) == 0
    assert gate.sync()
    assert gate.scan(issued[0]["token"]).reason is DeclineReason.TICKET_REVOKED
    assert _admin(fest, "revoke-ticket", "--ticket", issued[0]["ticket_id"], "--unrevoke") == 0
    assert gate.sync()
    assert gate.scan(issued[0]["token"]).approved
    assert _ticket_rows(fest) == 5


@pytest.mark.parametrize(("text", "message"), [
    ("", "header"),
    ("holder\nAoi\n", "type"),
    ("type,holder\nx,Aoi\n", "not a ticket type"),
    ("type,valid_from\n1,tomorrow\n", "ISO 8601"),
    ("type,valid_from\n1,2026-11-03T09:00\n", "time zone"),
    ("type,holder\n", "no rows"),
])
def test_bad_csv_is_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(TicketError, match=message):
        parse_tickets_csv(text)


def test_an_import_is_all_or_nothing(festival: Festival, capsys: pytest.CaptureFixture[str]) -> None:
    fest = festival
    text = f"type,holder\n{fest.single},A\n999,B\n"
    with pytest.raises(TicketError, match="unknown ticket type 999"), fest.seed.db.write() as conn:
        import_tickets_csv(conn, text, issuer=IssuerKeys(fest.settings.issuer_key_path).active(conn),
                           now_ms=fest.clock.now_ms())
    assert _ticket_rows(fest) == 0
    assert _admin(fest, "issue-tickets", "--count", "2") == 1  # --count needs --type
    assert _admin(fest, "issue-tickets", "--type", "999", "--count", "2") == 1
    assert "unknown ticket type" in capsys.readouterr().err
    assert _ticket_rows(fest) == 0


def test_api_issues_and_revokes_with_tickets_manage(festival: Festival) -> None:
    fest = festival
    admin = fest.seed.api_token(fest.seed.staff("Boss", roles=[("admin", "event", None)]))
    headers = {"Authorization": f"Bearer {admin}"}
    made = httpx.post(f"{fest.url}/api/v1/tickets", json={"ticket_type": fest.unlimited, "count": 2,
                                                          "holder": "Crew"}, headers=headers)
    assert made.status_code == 201, made.text
    first = made.json()[0]
    with fest.seed.db.read() as conn:
        issuer = IssuerKeys(fest.settings.issuer_key_path).active(conn)
    keys = KeySet()
    keys.add(issuer.key_id, issuer.public)
    token = decode_token(first["token"], keys, now=None)
    assert isinstance(token, TicketToken) and token.policy is EntryPolicy.UNLIMITED
    assert token.flags == TicketFlags.NONE and first["holder"] == "Crew"
    gate = fest.gate(1)
    assert gate.scan(first["token"]).approved and gate.scan(first["token"]).approved
    revoked = httpx.post(f"{fest.url}/api/v1/tickets/{first['display_id']}/revoke", json={"reason": "lost"},
                         headers=headers)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert gate.sync() and gate.scan(first["token"]).reason is DeclineReason.TICKET_REVOKED
    nobody = fest.seed.api_token(fest.seed.staff("Nobody"))
    assert httpx.post(f"{fest.url}/api/v1/tickets", json={"ticket_type": fest.single},
                      headers={"Authorization": f"Bearer {nobody}"}).status_code == 403
    assert httpx.post(f"{fest.url}/api/v1/tickets", json={"ticket_type": 999},
                      headers=headers).status_code == 422
