"""Every ``ennichi admin`` subcommand, found by walking its argparse parser, with bad arguments.

Each bad value (an unknown stall, product, person, wallet, ticket, terminal or key; a blank or
whitespace-only name; a malformed amount or number) must end with a clear ``error:`` message and a
non-zero exit, never a traceback, and must write nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server import admin_cli, cli
from server.db import tables as t
from server.db.engine import Database
from server.settings import ServerSettings

UNKNOWN_ID = "4242"
UNKNOWN_SHORT = "999999"


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = admin_cli._parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.fixture(scope="module")
def event(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("cli") / "data"
    assert cli.main(["--data-dir", str(data), "init", "--currency", "EUR", "--number-locale", "de_DE"]) == 0
    ids: dict[str, str] = {"data": str(data)}

    def run(*argv: str) -> str:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert admin_cli.main(["--data-dir", str(data), *argv]) == 0
        return out.getvalue()

    ids["stall"] = run("create-stall", "--name", "Bar").strip()
    ids["gate"] = run("create-gate", "--name", "North").strip()
    ids["type"] = run("create-ticket-type", "--name", "Day", "--policy", "single").strip()
    ids["staff"] = run("create-staff", "--name", "Aoi", "--pin", "2468").split("staff id: ")[1].split()[0]
    ids["wallet"] = run("create-wallet").split("wallet id: ")[1].split()[0]
    return ids


def _staff_csv(tmp: Path) -> str:
    path = tmp / "staff.csv"
    path.write_text("name,role,scope,pin\nKai,cashier,Bar,1234\n", encoding="utf-8")
    return str(path)


def _good(dest: str, ids: dict[str, str], tmp: Path) -> list[str] | None:
    """A value that works for this option (so that only the one bad value is wrong)."""
    return {
        "mode": ["stall"], "stall": [ids["stall"]], "gate": [ids["gate"]], "url": ["http://127.0.0.1:8000"],
        "name": ["Tea"], "price": ["4,80"], "stock": ["10"], "kind": ["normal"], "policy": ["single"],
        "type": [ids["type"]],
        "count": ["1"], "pin": ["1357"], "staff": [ids["staff"]], "wallet": [ids["wallet"]], "amount": ["5"],
        "balance": ["5"], "terminal": [UNKNOWN_ID], "key_id": ["1"], "ticket": [UNKNOWN_SHORT],
        "out": [str(tmp / "out.tar.gz")], "source": [str(tmp / "missing.tar.gz")],
        "reason": ["lost"], "csv": [_staff_csv(tmp)], "lang": ["en"], "holder": ["Ann"], "role": ["cashier"],
        "badge_days": ["7"],
    }.get(dest)


# Bad values per option; each must be refused.
BAD: dict[str, list[str]] = {
    "login": ["  ", "x" * 101],  # reset-admin
    "stall": [UNKNOWN_ID, "-1", "0", "x", " "],
    "gate": [UNKNOWN_ID, "-1", "x"],
    "type": [UNKNOWN_ID, "0", "x"],
    "staff": [UNKNOWN_SHORT, "x", ""],
    "wallet": [UNKNOWN_SHORT, "x", ""],
    "ticket": ["0", "x", ""],  # an id the registry lacks (another system's ticket) is revocable (test below)
    "terminal": [UNKNOWN_ID, "0", "x"],
    "key_id": [UNKNOWN_ID, "0", "x"],
    "name": ["", "   ", "\t \n"],
    "reason": ["", "   "],
    "url": ["", "   "],
    "pin": ["", "   ", "12", "abcd"],
    "price": ["", " ", "4.80", "1,000", "-1", "abc", "4,801", "$4,80"],  # de_DE: 4.80 is refused, not 480
    "amount": ["", "0", "-5", "4.80", "abc", "1,001"],
    "balance": ["-5", "4.80", "abc", "1,001"],
    "stock": ["-1", "x", "1.5"],
    "kind": ["coupon", " ", "DEPOSIT"],
    "category": ["x" * 41],
    "colour": ["magenta", "", "RED"],
    "count": ["0", "-3", "x"],
    "badge_days": ["0", "-1", "x", "100000"],
    "role": ["cashier:stall:" + UNKNOWN_ID, "cashier:gate:" + UNKNOWN_ID, "nobody", "cashier:shop:1", " "],
    "valid_from": ["", "yesterday", "2026-13-01"],
    "valid_until": ["", "nope"],
    "timeout": ["0", "-1", "x"],
    "mode": ["kiosk", ""],
    "policy": ["twice", ""],
    "out": ["/nonexistent-dir/x/out.tar.gz"],
    "source": ["/nonexistent-dir/missing.tar.gz"],
    "csv": ["/nonexistent-dir/tickets.csv"],
    "lang": ["fr", ""],
    "event_name": ["", "   "],
    "timezone": ["Mars/Olympus", "   ", "Asia/Tokyo/x"],
    "number_locale": ["xx_NOPE", "  ", "de_DE_x_y_z_w"],
}
# Options that need another option to be meaningful (or are the whole command's point) go in pairs below.
SKIP = {"data_dir", "database_url", "target_data_dir", "target_database_url", "force", "free_amount", "unrevoke",
        "unblock", "help", "holder"}


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for name, sub in _subparsers().items():
        for action in sub._actions:
            if action.dest in SKIP or not action.option_strings:
                continue
            assert action.dest in BAD, f"{name} {action.option_strings}: add its bad values to BAD"
            cases.extend((name, action.dest, bad) for bad in BAD[action.dest])
    return cases


def _counts(data: str) -> dict[str, int]:
    db = Database(ServerSettings.load(data_dir=Path(data), env={}).url)
    try:
        with db.read() as conn:
            return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in (t.stalls, t.products, t.gates, t.ticket_types, t.staff, t.accounts, t.postings,
                                  t.api_tokens)}
    finally:
        db.dispose()


def test_every_subcommand_has_bad_cases() -> None:
    covered = {name for name, _dest, _bad in _cases()}
    assert covered == set(_subparsers()) - {"reconcile", "rotate-key"}  # those two take no arguments


@pytest.mark.parametrize(("command", "dest", "bad"), _cases())
def test_bad_argument_is_refused_clearly(command: str, dest: str, bad: str, event: dict[str, str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    sub = _subparsers()[command]
    argv = [command]
    for action in sub._actions:
        if action.dest in SKIP or not action.option_strings:
            continue
        value = [bad] if action.dest == dest else (_good(action.dest, event, tmp_path) if action.required or (
            command == "issue-tickets" and action.dest in ("type", "count")) else None)
        if command == "issue-tickets" and dest == "csv" and action.dest == "count":
            value = None
        if value is not None:
            argv += [action.option_strings[-1], *value]
    before = _counts(event["data"])
    try:
        code = admin_cli.main(["--data-dir", event["data"], *argv])
    except SystemExit as exc:  # argparse: usage error, exit 2, message on stderr
        code = exc.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code not in (0, None), (argv, captured.out)
    assert "Traceback" not in captured.err
    assert "error:" in captured.err and len(captured.err.strip()) > len("error:"), argv
    assert _counts(event["data"]) == before, argv


def test_set_event_changes_zone_and_locale(event: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert admin_cli.main(["--data-dir", event["data"], "set-event"]) == 1
    assert "nothing to change" in capsys.readouterr().err
    assert admin_cli.main(["--data-dir", event["data"], "set-event", "--timezone", "Europe/Berlin"]) == 0
    db = Database(ServerSettings.load(data_dir=Path(event["data"]), env={}).url)
    from server.event import get_event_settings

    with db.read() as conn:
        settings = get_event_settings(conn)
    db.dispose()
    assert (settings.timezone, settings.number_locale, settings.currency) == ("Europe/Berlin", "de_DE", "EUR")
    assert admin_cli.main(["--data-dir", event["data"], "set-event", "--timezone", "Asia/Tokyo"]) == 0


def test_revoking_a_ticket_the_registry_lacks_says_so(event: dict[str, str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert admin_cli.main(["--data-dir", event["data"], "revoke-ticket", "--ticket", UNKNOWN_SHORT]) == 0
    assert "not in the ticket registry" in capsys.readouterr().out


def test_product_name_of_spaces_and_unknown_stall(event: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code = admin_cli.main(["--data-dir", event["data"], "create-product", "--stall", UNKNOWN_ID, "--name", "Tea",
                           "--price", "4,80"])
    assert code == 1 and f"unknown stall {UNKNOWN_ID}" in capsys.readouterr().err


def test_amounts_are_major_units_in_the_event_locale(event: dict[str, str],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert admin_cli.main(["--data-dir", event["data"], "create-product", "--stall", event["stall"], "--name",
                           "Beer", "--price", "4,80"]) == 0
    product = int(capsys.readouterr().out)
    db = Database(ServerSettings.load(data_dir=Path(event["data"]), env={}).url)
    with db.read() as conn:
        assert conn.execute(select(t.products.c.price).where(t.products.c.id == product)).scalar_one() == 480
    db.dispose()
    assert admin_cli.main(["--data-dir", event["data"], "topup", "--wallet", event["wallet"], "--amount",
                           "1.000"]) == 0
    assert "1,000.00 €" in capsys.readouterr().out  # 1.000 in de_DE is one thousand euros
