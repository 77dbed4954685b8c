"""Staff from CSV: ``ennichi admin import-staff`` (all or nothing, per-line errors in ja/en)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from server import admin_cli, cli
from server.db import tables as t
from server.db.engine import Database
from server.settings import ServerSettings


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    data = tmp_path / "data"
    assert cli.main(["--data-dir", str(data), "init"]) == 0
    assert admin_cli.main(["--data-dir", str(data), "create-stall", "--name", "Beer tent"]) == 0
    assert admin_cli.main(["--data-dir", str(data), "create-gate", "--name", "North"]) == 0
    capsys.readouterr()
    return data


def _staff(data: Path) -> list[tuple[str, str | None]]:
    db = Database(ServerSettings.load(data_dir=data, env={}).url)
    with db.read() as conn:
        rows = conn.execute(select(t.staff.c.name, t.staff.c.id).order_by(t.staff.c.name)).all()
        grants = {int(r.staff_id): f"{r.role}@{r.scope_kind}:{r.scope_id}" for r in conn.execute(
            select(t.staff_roles))}
    db.dispose()
    return [(r.name, grants.get(int(r.id))) for r in rows if r.name != "Administrator"]


def test_import_all_with_generated_pins(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "staff.csv"
    src.write_text("\ufeffName,Role,Scope,PIN\nAoi,cashier,Beer tent,2468\nRen,gatekeeper,gate:1,\n"
                   "Yui,,,\n\n", encoding="utf-8")
    out = tmp_path / "pins.csv"
    assert admin_cli.main(["--data-dir", str(data), "import-staff", "--csv", str(src), "--out", str(out)]) == 0
    assert "imported 3 staff" in capsys.readouterr().out
    assert out.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["name"], r["pin_generated"]) for r in rows] == [("Aoi", "no"), ("Ren", "yes"), ("Yui", "yes")]
    assert all(r["pin"].isdigit() and len(r["pin"]) >= 4 for r in rows)
    assert _staff(data) == [("Aoi", "cashier@stall:1"), ("Ren", "gatekeeper@gate:1"), ("Yui", None)]
    db = Database(ServerSettings.load(data_dir=data, env={}).url)
    with db.read() as conn:
        pin_hash = conn.execute(select(t.staff.c.pin_hash).where(t.staff.c.name == "Ren")).scalar_one()
    db.dispose()
    assert PasswordHasher().verify(pin_hash, rows[1]["pin"])


def test_a_bad_line_imports_no_one(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "staff.csv"
    src.write_text("name,role,scope,pin\nAoi,cashier,Beer tent,2468\n   ,cashier,,\nRen,wizard,,\n"
                   "Yui,cashier,stall:99,\nKai,,Beer tent,\nMei,,,12\n", encoding="utf-8")
    assert admin_cli.main(["--data-dir", str(data), "import-staff", "--csv", str(src), "--lang", "ja"]) == 1
    err = capsys.readouterr().err
    assert "取り込みませんでした" in err and "Traceback" not in err
    for expected in ("3行目: 名前がありません", "4行目: 不明な役割「wizard」", "5行目: 不明な範囲「stall:99」",
                     "6行目: 範囲には役割が必要です", "7行目: 暗証番号は4〜12桁"):
        assert expected in err, expected
    assert "2行目" not in err
    assert _staff(data) == []
    assert admin_cli.main(["--data-dir", str(data), "import-staff", "--csv", str(src)]) == 1
    assert "line 4: unknown role 'wizard'" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "words"), [
    ("", "header row"), ("who,pin\nAoi,1234\n", "header row"), ("name,colour\nAoi,red\n", "unknown column"),
    ("name\n\n\n", "no people"), ("name\n" + "A" * 101 + "\n", "line 2: a name has at most 100"),
])
def test_malformed_files(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                         words: str) -> None:
    src = tmp_path / "staff.csv"
    src.write_text(text, encoding="utf-8")
    assert admin_cli.main(["--data-dir", str(data), "import-staff", "--csv", str(src)]) == 1
    assert words in capsys.readouterr().err
    db = Database(ServerSettings.load(data_dir=data, env={}).url)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.staff)).scalar_one() == 1  # the admin
    db.dispose()
