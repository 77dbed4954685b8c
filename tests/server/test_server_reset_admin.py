"""``ennichi admin reset-admin``: a forgotten password or a deactivated admin, fixed from the command line."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select, update

from server import admin_cli
from server.db import tables as t
from server.db.engine import Database
from server.testing import init_test_event, run_server_in_thread


def _sign_in(url: str, login: str, password: str) -> int:
    with httpx.Client(base_url=url, timeout=10) as client:
        form = client.get("/admin/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None, form.text[:500]
        return client.post("/admin/signin", data={"login": login, "password": password,
                                                  "csrf": csrf.group(1)}).status_code


def test_reset_admin_gives_a_new_password_and_brings_the_admin_back(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    settings, init = init_test_event(tmp_path / "data")
    db = Database(settings.url)
    with db.write() as conn:  # locked out: deactivated and stripped of the admin role
        conn.execute(update(t.staff).where(t.staff.c.id == init.admin_staff_id).values(active=False))
        conn.execute(delete(t.staff_roles).where(t.staff_roles.c.staff_id == init.admin_staff_id))
    url, stop = run_server_in_thread(settings)
    try:
        assert _sign_in(url, "admin", "admin-pass") != 303
        assert admin_cli.main(["--data-dir", str(settings.data_dir), "reset-admin"]) == 0
        out = capsys.readouterr().out
        password = out.split("admin password: ")[1].split()[0]
        assert password != "admin-pass" and _sign_in(url, "admin", password) == 303
        assert _sign_in(url, "admin", "admin-pass") != 303  # the old password is gone
        # no admin of that login yet: one is made
        assert admin_cli.main(["--data-dir", str(settings.data_dir), "reset-admin", "--login", "sensei"]) == 0
        second = capsys.readouterr().out
        assert "made a new admin 'sensei'" in second
        assert _sign_in(url, "sensei", second.split("admin password: ")[1].split()[0]) == 303
        assert admin_cli.main(["--data-dir", str(settings.data_dir), "reset-admin", "--login", "  "]) == 2
        assert "--login" in capsys.readouterr().err
    finally:
        stop()
    with db.read() as conn:
        actions = conn.execute(select(t.audit_log.c.action).where(t.audit_log.c.action == "admin.reset")).all()
        roles = conn.execute(select(t.staff_roles.c.role).where(t.staff_roles.c.staff_id == init.admin_staff_id)).all()
    db.dispose()
    assert len(actions) == 2 and [r[0] for r in roles] == ["admin"]
