"""``ennichi server`` and ``ennichi admin``: init, codes, staff, wallets, reconcile."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from server import admin_cli, cli
from server.db import tables as t
from server.db.engine import Database
from server.settings import ServerSettings
from sync.enrollment import EnrollmentCode


def _admin(data: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = admin_cli.main(["--data-dir", str(data), *argv])
    return code, capsys.readouterr().out


def test_init_then_operate_then_reconcile(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENNICHI_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    assert cli.main(["--data-dir", str(data), "init", "--event-name", "School fair"]) == 0
    out = capsys.readouterr().out
    assert "admin password: " in out and (data / "ennichi.db").exists()
    assert (data / "keys" / "issuer-1.pem").stat().st_mode & 0o777 == 0o600
    assert cli.main(["--data-dir", str(data), "init"]) == 1  # never twice
    capsys.readouterr()
    assert cli.main(["--data-dir", str(data), "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out

    code, out = _admin(data, capsys, "create-stall", "--name", "Takoyaki")
    stall = int(out)
    assert _admin(data, capsys, "create-product", "--stall", str(stall), "--name", "6 pcs", "--price", "500")[0] == 0
    code, out = _admin(data, capsys, "enroll-code", "--mode", "stall", "--stall", str(stall))
    assert code == 0 and EnrollmentCode.parse(out.strip()).url == "http://127.0.0.1:8000"
    code, out = _admin(data, capsys, "create-staff", "--name", "Aoi", "--pin", "2468",
                       "--role", f"cashier:stall:{stall}")
    assert code == 0 and "badge: ES1:" in out
    code, out = _admin(data, capsys, "create-wallet", "--balance", "1500")
    assert code == 0 and "token: EW1:" in out
    wallet = out.split("wallet id: ")[1].split(" ")[0]
    code, out = _admin(data, capsys, "topup", "--wallet", wallet, "--amount", "500")
    assert code == 0 and "balance: ¥2,000" in out
    code, out = _admin(data, capsys, "reconcile")
    assert code == 0 and "result: OK" in out

    db = Database(ServerSettings.load(data_dir=data, env={}).url)
    with db.write() as conn:  # a broken cache, as a bug or a hand edit would leave it
        conn.execute(update(t.accounts).where(t.accounts.c.ref == int(wallet)).values(balance=99))
    db.dispose()
    code, out = _admin(data, capsys, "reconcile")
    assert code == 1 and "cached balance 99, postings sum to 2000" in out


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        admin_cli.main(["enroll-code", "--mode", "kiosk"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2


def test_enroll_code_needs_an_existing_stall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    assert cli.main(["--data-dir", str(data), "init"]) == 0
    capsys.readouterr()
    code = admin_cli.main(["--data-dir", str(data), "enroll-code", "--mode", "stall", "--stall", "9"])
    assert code == 1 and "needs an existing --stall" in capsys.readouterr().err
