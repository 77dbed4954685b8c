"""Backup and restore of a whole event: the database plus the files that make it work.

A backup is one ``.tar.gz`` (mode 0600: it holds the issuer private keys)::

    manifest.json       format, engine, schema revision, time, ledger counts, sha256 of every file
    ennichi.db          SQLite: a consistent copy made with sqlite3's online backup API
    database.pgdump     PostgreSQL: ``pg_dump -Fc`` of one exported snapshot
    keys/issuer-N.pem   every issuer private key the database names (no key, no signed tokens)
    server.toml         if the data dir has one
    web-secret          if the data dir has one (signs dashboard sessions)

Both engines are safe to back up while the server runs.  The ledger counts in
the manifest (``reconcile`` of the very snapshot that was saved) are checked
again after a restore.  A restore goes into the same engine it came from and
refuses a target that holds data unless ``force``.

Errors::

    BackupError             a clear message for the operator; nothing was replaced
    └── TargetNotEmpty      the target database or data dir already holds an event
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.engine import make_url

from server.db import tables as t
from server.db.engine import Database
from server.reconcile import reconcile
from server.settings import ServerSettings

__all__ = ["BackupError", "BackupManifest", "TargetNotEmpty", "create_backup", "restore_backup"]

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "ennichi.db"
PG_MEMBER = "database.pgdump"
_EXTRA_FILES = ("server.toml", "web-secret")
_CHECKED_COUNTS = ("accounts", "transactions", "postings", "records", "wallets_total")
DEFAULT_TIMEOUT_S = 900


class BackupError(Exception):
    """A backup or restore could not be made; the message says why and what to do."""


class TargetNotEmpty(BackupError):
    """The restore target already holds an event (use force to replace it)."""


@dataclass(frozen=True, slots=True)
class BackupManifest:
    """What a backup holds."""

    engine: str  # sqlite | postgresql
    revision: str
    created_at_ms: int
    counts: dict[str, int]
    files: dict[str, str]  # member name -> sha256 hex

    def to_json(self) -> bytes:
        """The manifest as stored in the archive."""
        return json.dumps({"format": FORMAT, "engine": self.engine, "revision": self.revision,
                           "created_at_ms": self.created_at_ms, "counts": self.counts, "files": self.files},
                          indent=2, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> BackupManifest:
        """Parse a stored manifest; raises BackupError when it is not one this version reads."""
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise BackupError(f"backup format {raw.get('format')!r} is not supported (expected {FORMAT})")
            return cls(str(raw["engine"]), str(raw["revision"]), int(raw["created_at_ms"]),
                       {str(k): int(v) for k, v in raw["counts"].items()},
                       {str(k): str(v) for k, v in raw["files"].items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"not an Ennichi backup manifest: {exc}") from exc


# ---------------------------------------------------------------- backup

def create_backup(settings: ServerSettings, out: Path, *, now_ms: int, force: bool = False,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> BackupManifest:
    """Write a backup of the event of ``settings`` to ``out`` (mode 0600); raises BackupError."""
    out = out.absolute()
    if out.exists() and not force:
        raise BackupError(f"{out} exists; choose another name or use --force")
    if not out.parent.is_dir():
        raise BackupError(f"directory {out.parent} does not exist")
    db = Database(settings.url, synchronous=settings.sqlite_synchronous)
    try:
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".ennichi-backup-") as tmp:
            stage = Path(tmp)
            if db.is_sqlite:
                member, (revision, counts, key_ids) = SQLITE_MEMBER, _sqlite_snapshot(settings, stage / SQLITE_MEMBER)
            else:
                member, (revision, counts, key_ids) = PG_MEMBER, _pg_snapshot(db, stage / PG_MEMBER, timeout_s)
            files = {member: stage / member}
            for key_id in key_ids:
                path = settings.issuer_key_path(key_id)
                if not path.is_file():
                    raise BackupError(f"issuer key file {path} is missing: a backup without it cannot sign "
                                      "tokens; run the backup where the data dir is (--data-dir)")
                files[f"keys/{path.name}"] = path
            for name in _EXTRA_FILES:
                if (settings.data_dir / name).is_file():
                    files[name] = settings.data_dir / name
            manifest = BackupManifest("sqlite" if db.is_sqlite else "postgresql", revision, now_ms, counts,
                                      {name: _sha256(path) for name, path in files.items()})
            _write_archive(out, manifest, files)
    finally:
        db.dispose()
    return manifest


def _sqlite_snapshot(settings: ServerSettings, dest: Path) -> tuple[str, dict[str, int], list[int]]:
    source = settings.sqlite_path
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # all pages in one step: one consistent snapshot, writers keep going (WAL)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {source} failed: {exc}") from exc
    finally:
        dst.close()
        src.close()
    copy = create_engine(f"sqlite:///{dest}")  # plain: no WAL switch on the self-contained copy
    try:
        with copy.connect() as conn, conn.begin():
            return _describe(conn)
    finally:
        copy.dispose()


def _pg_snapshot(db: Database, dest: Path, timeout_s: float) -> tuple[str, dict[str, int], list[int]]:
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            described = _describe(conn)  # the counts of exactly the snapshot pg_dump saves
            _run_pg("pg_dump", ["--format=custom", f"--snapshot={snapshot}", f"--file={dest}"], db.url, timeout_s)
    return described


def _describe(conn: Connection) -> tuple[str, dict[str, int], list[int]]:
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
    report = reconcile(conn)
    if not report.ok:
        print(f"warning: the ledger does not reconcile ({len(report.breaks)} break(s)); backing it up as it is",
              file=sys.stderr)
    key_ids = [int(k) for k in conn.execute(select(t.issuer_keys.c.key_id)).scalars()]
    return str(revision), {k: int(report.summary[k]) for k in _CHECKED_COUNTS}, key_ids


def _write_archive(out: Path, manifest: BackupManifest, files: dict[str, Path]) -> None:
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            with tarfile.open(fileobj=fh, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, manifest.to_json())
                for name, path in files.items():
                    info = tar.gettarinfo(str(path), arcname=name)
                    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                    with path.open("rb") as src:
                        tar.addfile(info, src)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    import io

    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    tar.addfile(info, io.BytesIO(data))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- restore

@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did."""

    manifest: BackupManifest
    counts: dict[str, int]
    revision: str
    notes: list[str]


def restore_backup(source: Path, settings: ServerSettings, *, now_ms: int, force: bool = False,
                   timeout_s: float = DEFAULT_TIMEOUT_S) -> RestoreResult:
    """Restore ``source`` into the database and data dir of ``settings``; raises BackupError, TargetNotEmpty."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    notes: list[str] = []
    with _unpacked(source, settings.data_dir) as (manifest, stage):
        engine = "sqlite" if settings.is_sqlite else "postgresql"
        if manifest.engine != engine:
            raise BackupError(f"this backup is of a {manifest.engine} database and the target is {engine}: "
                              "restore into the same engine")
        db = Database(settings.url, synchronous=settings.sqlite_synchronous)
        try:
            occupied = _occupied(db, settings, stage, manifest)
            if occupied and not force:
                raise TargetNotEmpty(f"the target already holds {occupied}; nothing was changed "
                                     "(restore into a fresh database and data dir, or use --force to replace it)")
            if db.is_sqlite:
                db.dispose()
                _restore_sqlite(stage / SQLITE_MEMBER, settings.sqlite_path)
            else:
                _run_pg("pg_restore", ["--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
                                       *(["--clean", "--if-exists"] if occupied else []),
                                       f"--dbname={db.engine.url.database}", str(stage / PG_MEMBER)],
                        db.url, timeout_s)
            notes.extend(_restore_files(stage, manifest, settings))
            with db.read() as conn:
                revision, counts, _keys = _describe(conn)
            if any(counts.get(k) != manifest.counts.get(k) for k in _CHECKED_COUNTS):
                raise BackupError(f"the restored database differs from the backup: {counts} != {manifest.counts}")
            with db.write() as conn:
                from server.audit import audit
                from server.epoch import bump_restore_epoch

                epoch = bump_restore_epoch(conn)  # the terminals learn the server went back in time
                audit(conn, actor="cli", action="event.restore", now_ms=now_ms, source=source.name,
                      backup_created_at=manifest.created_at_ms, epoch=epoch)
            notes.append(f"restore epoch {epoch}: terminals send again what this backup lacks on their next contact")
        finally:
            db.dispose()
    return RestoreResult(manifest, counts, revision, notes)


@contextmanager
def _unpacked(source: Path, data_dir: Path) -> Iterator[tuple[BackupManifest, Path]]:
    """Extract the known members into a private directory beside the data; check every checksum."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".ennichi-restore-") as tmp:
        stage = Path(tmp)
        try:
            with tarfile.open(source, mode="r:gz") as tar:
                member = tar.getmember(MANIFEST)
                fh = tar.extractfile(member)
                if fh is None:
                    raise BackupError("the backup's manifest is not a file")
                manifest = BackupManifest.from_json(fh.read())
                # The manifest may name only the regular members of the known names that are extracted and
                # checked below: a name listed only in the manifest ('../x', '/etc/x') would otherwise be
                # read and written relative to the data dir.
                for name in manifest.files:
                    if not _safe_member(name):
                        raise BackupError(f"the backup's manifest names an unexpected entry {name!r}")
                seen: set[str] = set()
                for info in tar.getmembers():
                    if info.name in seen:
                        raise BackupError(f"the entry {info.name!r} appears twice in the backup")
                    seen.add(info.name)
                    if info.name == MANIFEST:
                        if not info.isfile():
                            raise BackupError("the backup's manifest is not a file")
                        continue
                    if info.name not in manifest.files or not info.isfile() or not _safe_member(info.name):
                        raise BackupError(f"unexpected entry {info.name!r} in the backup")
                    target = stage / info.name
                    target.parent.mkdir(mode=0o700, exist_ok=True)
                    src = tar.extractfile(info)
                    assert src is not None
                    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
        except (tarfile.TarError, OSError, KeyError, EOFError) as exc:
            raise BackupError(f"{source} is not a readable Ennichi backup: {exc}") from exc
        missing = sorted(set(manifest.files) - seen)
        if missing:
            raise BackupError(f"{missing[0]} in the backup is missing or damaged (the manifest names it, "
                              "the archive does not hold it)")
        for name, digest in manifest.files.items():
            path = stage / name
            if path.is_symlink():
                raise BackupError(f"{name} in the backup is not a regular file")
            if not path.is_file() or _sha256(path) != digest:
                raise BackupError(f"{name} in the backup is missing or damaged (checksum mismatch)")
        yield manifest, stage


def _safe_member(name: str) -> bool:
    parts = name.split("/")
    if name in (SQLITE_MEMBER, PG_MEMBER, *_EXTRA_FILES):
        return True
    return len(parts) == 2 and parts[0] == "keys" and re.fullmatch(r"[A-Za-z0-9_-]+\.pem", parts[1]) is not None


def _occupied(db: Database, settings: ServerSettings, stage: Path, manifest: BackupManifest) -> str:
    """Describe what in the target would be replaced ('' when nothing)."""
    with db.read() as conn:
        if db.is_sqlite:
            tables = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar_one()
        else:
            tables = conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                       "WHERE table_schema = current_schema()")).scalar_one()
    if tables:
        return f"a database with {tables} table(s) at {make_url(settings.url).render_as_string(hide_password=True)}"
    keys = sorted(p.name for p in (settings.data_dir / "keys").glob("*.pem"))
    if keys:
        return f"issuer key files in {settings.data_dir / 'keys'} ({', '.join(keys)})"
    secret = settings.data_dir / "web-secret"
    theirs = stage / "web-secret"
    if "web-secret" in manifest.files and secret.is_file() and secret.read_bytes() != theirs.read_bytes():
        return f"another {secret}"
    return ""


def _restore_sqlite(copy: Path, target: Path) -> None:
    src = sqlite3.connect(copy)
    try:
        check = src.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"the SQLite copy in the backup fails its integrity check: {check}")
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)  # through SQLite's own locking: a stale -wal beside the target cannot leak in
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"restoring into {target} failed: {exc}") from exc
    finally:
        src.close()
    os.chmod(target, 0o600)


def _restore_files(stage: Path, manifest: BackupManifest, settings: ServerSettings) -> list[str]:
    notes = []
    keys_dir = settings.data_dir / "keys"
    keys_dir.mkdir(mode=0o700, exist_ok=True)
    for name in manifest.files:
        if name in (SQLITE_MEMBER, PG_MEMBER):
            continue
        target = settings.data_dir / name
        if name == "server.toml" and target.exists():
            target = settings.data_dir / "server.toml.from-backup"
            notes.append(f"kept the existing server.toml; the backup's is in {target}")
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, (stage / name).open("rb") as src:
            shutil.copyfileobj(src, out)
        os.replace(partial, target)
    toml_url = _toml_database_url(settings.data_dir / "server.toml")
    if toml_url is not None and toml_url != settings.database_url:
        notes.append(f"server.toml sets database_url = {_safe(toml_url) or '(SQLite)'} but the database was "
                     f"restored to {_safe(settings.url)}: edit server.toml or set ENNICHI_DATABASE_URL")
    return notes


def _toml_database_url(path: Path) -> str | None:
    import tomllib

    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            value = tomllib.load(fh).get("server", {}).get("database_url")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return None if value is None else str(value)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True) if url else ""


# ---------------------------------------------------------------- PostgreSQL client tools

def _pg_env(url: str) -> dict[str, str]:
    """The libpq environment for ``url``: the password travels in PGPASSWORD, never on a command line."""
    u = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):
        if value is not None:
            env[key] = str(value)
    for param, key in (("host", "PGHOST"), ("sslmode", "PGSSLMODE"), ("connect_timeout", "PGCONNECT_TIMEOUT")):
        given = u.query.get(param)
        if given:
            env[key] = given if isinstance(given, str) else given[0]
    return env


def _run_pg(tool: str, args: list[str], url: str, timeout_s: float) -> None:
    exe = shutil.which(tool)
    if exe is None:
        raise BackupError(f"{tool} is not installed (Debian: apt install postgresql-client-15, matching the server)")
    try:
        done = subprocess.run([exe, *args], env=_pg_env(url), capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{tool} did not finish within {timeout_s:g} s (raise --timeout)") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BackupError(f"{tool} failed (exit {done.returncode}): {tail}")


# ---------------------------------------------------------------- the admin commands

def backup_command(settings: ServerSettings, args: argparse.Namespace, *, now_ms: int) -> int:
    """``ennichi admin backup --out FILE``: prints what was saved; returns the exit code."""
    try:
        manifest = create_backup(settings, Path(args.out), now_ms=now_ms, force=args.force, timeout_s=args.timeout)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    keys = [name for name in manifest.files if name.startswith("keys/")]
    print(f"backup written to {Path(args.out).absolute()} (mode 0600: it holds the issuer private keys)")
    print(f"engine: {manifest.engine}, schema {manifest.revision}, {len(keys)} issuer key file(s)")
    print(", ".join(f"{k}: {v}" for k, v in manifest.counts.items()))
    return 0


def restore_command(settings: ServerSettings, args: argparse.Namespace, *, now_ms: int) -> int:
    """``ennichi admin restore --from FILE``: restores and verifies; returns the exit code."""
    try:
        result = restore_backup(Path(args.source), settings, now_ms=now_ms, force=args.force,
                                timeout_s=args.timeout)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.source} into {_safe(settings.url)} and {settings.data_dir}")
    print(", ".join(f"{k}: {v}" for k, v in result.counts.items()) + " (as in the backup)")
    print(f"schema {result.revision}: run `ennichi server upgrade` before serving with a newer version")
    for note in result.notes:
        print(f"note: {note}")
    return 0
