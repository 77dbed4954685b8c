"""``ennichi server upgrade``: migrates an empty or an older database to the newest schema, on both engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from ops_helpers import admin_args
from sqlalchemy import Connection, inspect, text

from server import cli
from server.db.engine import Database
from server.db.migrate import upgrade
from server.settings import ServerSettings

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _head() -> str:
    from alembic.script import ScriptDirectory

    from server.db.migrate import alembic_config

    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


@dataclass
class Fresh:
    """A new, empty database on one engine, with a data folder for the CLI."""

    db: Database
    data: Path
    url: str


@pytest.fixture
def fresh(engine: str, new_database: Callable[[str], str], tmp_path: Path) -> Iterator[Fresh]:
    """An empty database on ``engine`` (the test's parameter), disposed of after the test."""
    url = new_database(engine)
    data = tmp_path / "data"
    data.mkdir()
    db = Database(ServerSettings.load(data_dir=data, env={}, database_url=url or None).url)
    try:
        yield Fresh(db, data, url)
    finally:
        db.dispose()


def _changes_at_40_and_a_ticket_type(conn: Connection, type_id: int, name: str, policy: str) -> None:
    """The change counter at 40 and one ticket type, as an event that sold tickets before the migration has."""
    conn.execute(text("INSERT INTO counters (name, value) VALUES ('changes', 40) "
                      "ON CONFLICT (name) DO UPDATE SET value = 40"))
    conn.execute(text("INSERT INTO ticket_types (id, name, policy, gate_ids, active, change_seq) "
                      "VALUES (:id, :name, :policy, '[]', TRUE, 1)"), {"id": type_id, "name": name, "policy": policy})


@pytest.mark.parametrize("engine", ENGINES)
def test_upgrade_migrates_an_older_database_to_head_then_is_a_no_op(
        engine: str, fresh: Fresh, capsys: pytest.CaptureFixture[str]) -> None:
    db, data, url = fresh.db, fresh.data, fresh.url
    upgrade(db.engine, "0001")  # the first release's schema
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    before = set(inspect(db.engine).get_table_names())
    for _ in range(2):
        assert cli.main([*admin_args(data, url), "upgrade"]) == 0
        assert "is up to date" in capsys.readouterr().out
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()
    db.dispose()
    after = set(inspect(db.engine).get_table_names())
    assert before < after  # the later migrations' tables exist now
    assert cli.main([*admin_args(data, url), "init"]) == 0  # and an event can be created on it
    assert "admin password" in capsys.readouterr().out


@pytest.mark.parametrize("engine", ENGINES)
def test_gate_tickets_migration_numbers_the_tickets_issued_before(engine: str, fresh: Fresh) -> None:
    """0710_gate_tickets: every ticket issued before gets its own change number above the counter (gates pull it)."""
    db = fresh.db
    upgrade(db.engine, "0700_lines")
    with db.engine.begin() as conn:
        _changes_at_40_and_a_ticket_type(conn, 1, "Day", "single")
        for tid in (7, 5, 9):
            conn.execute(text("INSERT INTO tickets (ticket_id, ticket_type, policy, flags, valid_from, "
                              "valid_until, holder, source, batch, created_at) "
                              "VALUES (:tid, 1, 'single', 0, 0, 10, '', 'admin', '', 0)"), {"tid": tid})
    upgrade(db.engine, "0710_gate_tickets")
    with db.engine.connect() as conn:
        seqs = dict(conn.execute(text("SELECT ticket_id, change_seq FROM tickets")).all())
        top = conn.execute(text("SELECT value FROM counters WHERE name = 'changes'")).scalar_one()
    assert seqs == {5: 41, 7: 42, 9: 43} and top == 43


@pytest.mark.parametrize("engine", ENGINES)
def test_guest_tickets_migration_puts_earlier_invitations_in_the_registry(
        engine: str, fresh: Fresh) -> None:
    """0770_guest_tickets: a guest invitation made before gets its ticket row (gates pull it), revoked if cancelled."""
    db = fresh.db
    upgrade(db.engine, "0750_product_look")
    with db.engine.begin() as conn:
        _changes_at_40_and_a_ticket_type(conn, 3, "Guest", "reentry")
        conn.execute(text("INSERT INTO web_customers (wallet_id, holder_name, pin_hash, guest_quota, created_at) "
                          "VALUES (11, 'Ren', 'x', 2, 0)"))
        for tid, name, cancelled in ((70, "Grandma", None), (50, "Kenji", 900)):
            conn.execute(text("INSERT INTO web_guest_invitations (wallet_id, ticket_id, ticket_type, guest_name, "
                              "valid_from, valid_until, created_at, cancelled_at) "
                              "VALUES (11, :tid, 3, :name, 100, 200, 500, :c)"),
                         {"tid": tid, "name": name, "c": cancelled})
    upgrade(db.engine, "0770_guest_tickets")
    with db.engine.connect() as conn:
        rows = {r.ticket_id: r for r in conn.execute(text(
            "SELECT ticket_id, ticket_type, policy, flags, valid_from, valid_until, holder, source, revoked_at, "
            "change_seq FROM tickets"))}
        top = conn.execute(text("SELECT value FROM counters WHERE name = 'changes'")).scalar_one()
    assert sorted(rows) == [50, 70] and top == 42
    assert {tid: r.change_seq for tid, r in rows.items()} == {70: 41, 50: 42}  # in invitation order
    grandma = rows[70]
    assert (grandma.ticket_type, grandma.policy, grandma.flags, grandma.valid_from, grandma.valid_until,
            grandma.holder, grandma.source, grandma.revoked_at) == (3, "reentry", 1, 100, 200, "Grandma",
                                                                    "guest", None)
    assert rows[50].revoked_at == 900


@pytest.mark.parametrize("engine", ENGINES)
def test_sold_out_permission_migration_gives_it_to_the_roles_a_new_event_has_it_in(
        engine: str, fresh: Fresh) -> None:
    """0780_sold_out_permission: admin and supervisor of an earlier event get product.sold_out; no other role."""
    import json

    from sync.permissions import DEFAULT_ROLES, Permission

    db = fresh.db
    upgrade(db.engine, "0770_guest_tickets")
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM roles"))
        for name, perms in (("admin", ["sell", "refund"]), ("supervisor", ["sell", "shift.close"]),
                            ("cashier", ["sell"]), ("bar-lead", ["sell", "refund"])):
            conn.execute(text("INSERT INTO roles (name, permissions) VALUES (:n, :p)"),
                         {"n": name, "p": json.dumps(perms)})
    upgrade(db.engine, "0780_sold_out_permission")
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT name, permissions FROM roles")).all()
    roles = {r.name: json.loads(r.permissions) for r in rows}
    assert roles == {"admin": ["product.sold_out", "refund", "sell"],
                     "supervisor": ["product.sold_out", "sell", "shift.close"],
                     "cashier": ["sell"], "bar-lead": ["sell", "refund"]}  # a role the event made stays its own
    assert {n for n, p in DEFAULT_ROLES.items() if Permission.PRODUCT_SOLD_OUT in p} == {"admin", "supervisor"}
