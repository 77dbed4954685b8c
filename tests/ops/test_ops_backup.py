"""``ennichi admin backup`` / ``restore``: a backup restores into a fresh event that reconciles and works."""

from __future__ import annotations

import io
import stat
import tarfile
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from ops_helpers import admin_args, open_shop, push, sales
from sqlalchemy import select

from server import admin_cli
from server.backup import BackupError, _run_pg
from server.db import tables as t
from server.db.engine import Database
from server.settings import ServerSettings
from server.testing import init_test_event, run_server_in_thread

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _admin(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = admin_cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _ledger(settings: ServerSettings) -> tuple[list[tuple[str, int, int, int]], set[str]]:
    db = Database(settings.url)
    try:
        with db.read() as conn:
            a = t.accounts
            accounts = [tuple(r) for r in conn.execute(select(a.c.kind, a.c.ref, a.c.balance, a.c.seq)
                                                       .order_by(a.c.kind, a.c.ref))]
            records = set(conn.execute(select(t.records.c.id)).scalars())
    finally:
        db.dispose()
    return accounts, records  # type: ignore[return-value]


@pytest.mark.parametrize("engine", ENGINES)
def test_backup_under_load_and_at_rest_restore_into_fresh_events(
        engine: str, tmp_path: Path, new_database: Callable[[str], str], capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = init_test_event(tmp_path / "live", database_url=new_database(engine))
    shop = open_shop(settings)
    base_url, stop = run_server_in_thread(settings)
    source = admin_args(settings.data_dir, settings.database_url)
    try:
        assert push(base_url, shop, sales(shop, 50)).status_code == 200
        done = threading.Event()
        pushed: list[int] = []

        def keep_pushing() -> None:  # writers keep going while the first backup is taken
            while not done.is_set() and len(pushed) < 200:
                response = push(base_url, shop, sales(shop, 20))
                assert response.status_code == 200
                pushed.append(len(response.json()["results"]))

        writer = threading.Thread(target=keep_pushing)
        writer.start()
        try:
            code, out, err = _admin(capsys, *source, "backup", "--out", str(tmp_path / "busy.tar.gz"))
        finally:
            done.set()
            writer.join(timeout=120)
        assert code == 0, err
        code, out, err = _admin(capsys, *source, "backup", "--out", str(tmp_path / "rest.tar.gz"))
        assert code == 0, err
        assert "1 issuer key file(s)" in out
    finally:
        stop()
    for name in ("busy", "rest"):
        archive = tmp_path / f"{name}.tar.gz"
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        with tarfile.open(archive) as tar:
            names = set(tar.getnames())
        assert {"manifest.json", "keys/issuer-1.pem"} <= names
        assert ("ennichi.db" if engine == "sqlite" else "database.pgdump") in names

    restored: dict[str, ServerSettings] = {}
    for name in ("busy", "rest"):
        target_dir, target_url = tmp_path / f"restored-{name}", new_database(engine)
        flags = ["--data-dir", str(target_dir), *(["--database-url", target_url] if target_url else [])]
        code, out, err = _admin(capsys, "restore", "--from", str(tmp_path / f"{name}.tar.gz"), *flags)
        assert code == 0, err
        assert "(as in the backup)" in out
        code, out, err = _admin(capsys, *admin_args(target_dir, target_url), "reconcile")
        assert code == 0 and "result: OK" in out, out
        restored[name] = ServerSettings.load(data_dir=target_dir, env={}, database_url=target_url or None)
        key = target_dir / "keys" / "issuer-1.pem"
        assert key.read_bytes() == settings.issuer_key_path(1).read_bytes()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600

    assert _ledger(restored["rest"]) == _ledger(settings)  # every balance, seq and record, nothing else
    busy_records = _ledger(restored["busy"])[1]
    assert len(busy_records) >= 50 and busy_records <= _ledger(settings)[1]

    # the restored event works: the terminal's token, the issuer key, a new sale
    base_url, stop = run_server_in_thread(restored["rest"])
    try:
        pulled = httpx.post(f"{base_url}/api/v1/pull", json={}, headers=shop.terminal.headers)
        assert pulled.status_code == 200 and pulled.json()["issuer_keys"]
        answer = push(base_url, shop, sales(shop, 1)).json()["results"][0]
        assert answer["status"] == "applied"
    finally:
        stop()


@pytest.mark.parametrize("engine", ENGINES)
def test_restore_refuses_a_target_that_holds_an_event_unless_forced(
        engine: str, tmp_path: Path, new_database: Callable[[str], str], capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = init_test_event(tmp_path / "live", database_url=new_database(engine))
    shop = open_shop(settings, wallets=3, balance=1000)
    flags = admin_args(settings.data_dir, settings.database_url)
    assert _admin(capsys, *flags, "backup", "--out", str(tmp_path / "b.tar.gz"))[0] == 0
    code, _, err = _admin(capsys, *flags, "backup", "--out", str(tmp_path / "b.tar.gz"))
    assert code == 1 and "exists" in err  # never overwrites a backup silently

    before = _ledger(settings)
    seed_db = Database(settings.url)
    try:
        from server.wallets import admin_topup

        with seed_db.write() as conn:  # the live event moves on after the backup
            admin_topup(conn, shop.wallets[0], 500, lock=not seed_db.is_sqlite, now_ms=1)
    finally:
        seed_db.dispose()
    moved = _ledger(settings)
    assert moved != before

    code, _, err = _admin(capsys, *flags, "restore", "--from", str(tmp_path / "b.tar.gz"))
    assert code == 1 and "already holds a database" in err
    assert _ledger(settings) == moved  # refused: nothing changed

    empty_db_with_keys = tmp_path / "keys-only"
    (empty_db_with_keys / "keys").mkdir(parents=True)
    (empty_db_with_keys / "keys" / "issuer-1.pem").write_text("another event's key")
    url = new_database(engine)
    code, _, err = _admin(capsys, "restore", "--from", str(tmp_path / "b.tar.gz"),
                          *admin_args(empty_db_with_keys, url))
    assert code == 1 and "issuer key files" in err

    code, _out, err = _admin(capsys, *flags, "restore", "--from", str(tmp_path / "b.tar.gz"), "--force")
    assert code == 0, err
    assert _ledger(settings) == before  # back to the backup's state exactly
    assert _admin(capsys, *flags, "reconcile")[0] == 0


def test_restore_refuses_damaged_foreign_and_cross_engine_archives(
        tmp_path: Path, new_database: Callable[[str], str], capsys: pytest.CaptureFixture[str]) -> None:
    settings, _ = init_test_event(tmp_path / "live")
    good = tmp_path / "good.tar.gz"
    assert _admin(capsys, "--data-dir", str(settings.data_dir), "backup", "--out", str(good))[0] == 0
    with tarfile.open(good) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]

    def rebuilt(name: str, changes: dict[str, bytes]) -> Path:
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as tar:
            for member, data in {**members, **changes}.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path

    damaged = rebuilt("damaged.tar.gz", {"keys/issuer-1.pem": b"tampered"})
    code, _, err = _admin(capsys, "restore", "--from", str(damaged), "--data-dir", str(tmp_path / "t1"))
    assert code == 1 and "checksum mismatch" in err
    escaping = rebuilt("escaping.tar.gz", {"../outside.txt": b"x"})
    code, _, err = _admin(capsys, "restore", "--from", str(escaping), "--data-dir", str(tmp_path / "t2"))
    assert code == 1 and "unexpected entry '../outside.txt'" in err
    assert not (tmp_path / "outside.txt").exists()
    not_a_backup = tmp_path / "junk.tar.gz"
    not_a_backup.write_bytes(b"not a tar file")
    code, _, err = _admin(capsys, "restore", "--from", str(not_a_backup), "--data-dir", str(tmp_path / "t3"))
    assert code == 1 and "not a readable Ennichi backup" in err
    url = new_database("postgres")
    code, _, err = _admin(capsys, "restore", "--from", str(good), "--data-dir", str(tmp_path / "t4"),
                          "--database-url", url)
    assert code == 1 and "this backup is of a sqlite database and the target is postgresql" in err


@pytest.mark.postgres
def test_pg_tools_get_the_password_from_the_environment_and_a_timeout(
        tmp_path: Path, new_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> None:
    url = new_database("postgres")
    shim = tmp_path / "bin"
    shim.mkdir()
    seen = tmp_path / "seen.txt"
    (shim / "pg_dump").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {seen}\necho "PGPASSWORD=${{PGPASSWORD:+set}}" >> {seen}\n'
        'case "$*" in *--slow*) exec sleep 30;; esac\nexit 0\n')
    (shim / "pg_dump").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}:/usr/bin:/bin")
    _run_pg("pg_dump", ["--format=custom", f"--file={tmp_path / 'x'}"], url, 30)
    lines = seen.read_text().splitlines()
    assert lines[-1] == "PGPASSWORD=set"
    assert lines[:-1] == ["--format=custom", f"--file={tmp_path / 'x'}"]  # no URL, no password, no user
    with pytest.raises(BackupError, match=r"did not finish within 0\.5 s"):
        _run_pg("pg_dump", ["--slow"], url, 0.5)


def test_restore_refuses_a_manifest_naming_what_it_did_not_extract_and_writes_nothing_outside(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A crafted manifest lists '../x', an absolute path or a link: refused, and no file outside the data dir moves."""
    import hashlib
    import json
    import os

    settings, _ = init_test_event(tmp_path / "live")
    good = tmp_path / "good.tar.gz"
    assert _admin(capsys, "--data-dir", str(settings.data_dir), "backup", "--out", str(good))[0] == 0
    with tarfile.open(good) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    manifest = json.loads(members["manifest.json"])
    victim = tmp_path / "victim.sh"
    victim.write_bytes(b"#!/bin/sh\necho precious\n")
    os.chmod(victim, 0o755)  # noqa: S103 - the mode a restore must not change
    victim_digest = hashlib.sha256(victim.read_bytes()).hexdigest()

    def crafted(name: str, extra_files: dict[str, str], links: dict[str, str] | None = None) -> Path:
        path = tmp_path / name
        listed = {**manifest, "files": {**manifest["files"], **extra_files}}
        with tarfile.open(path, "w:gz") as tar:
            for member, data in {**members, "manifest.json": json.dumps(listed).encode()}.items():
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            for member, target in (links or {}).items():
                info = tarfile.TarInfo(member)
                info.type, info.linkname = tarfile.SYMTYPE, target
                tar.addfile(info)
        return path

    target = tmp_path / "target"
    target.mkdir()
    rel = os.path.relpath(victim, target)  # '../victim.sh', as data_dir / name would resolve it
    cases = {
        "absolute": (crafted("abs.tar.gz", {str(victim): victim_digest}), "unexpected entry"),
        "dotdot": (crafted("dotdot.tar.gz", {rel: victim_digest}), f"unexpected entry {rel!r}"),
        "dotdot-key": (crafted("key.tar.gz", {f"keys/../../{victim.name}": victim_digest}), "unexpected entry"),
        "symlink": (crafted("link.tar.gz", {"keys/issuer-9.pem": victim_digest},
                            links={"keys/issuer-9.pem": str(victim)}), "unexpected entry 'keys/issuer-9.pem'"),
        "listed-not-held": (crafted("ghost.tar.gz", {"keys/issuer-9.pem": victim_digest}),
                            "the archive does not hold it"),
    }
    for label, (archive, message) in cases.items():
        code, _, err = _admin(capsys, "restore", "--from", str(archive), "--data-dir", str(target))
        assert stat.S_IMODE(victim.stat().st_mode) == 0o755, label
        assert code == 1 and message in err, (label, err)
        assert victim.read_bytes() == b"#!/bin/sh\necho precious\n", label
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".tar.gz")) == \
            ["live", "target", "victim.sh"], label
        assert not (target / "ennichi.db").exists() and not list(target.rglob("*.pem")), label
