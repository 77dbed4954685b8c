"""The PyInstaller build of the terminal: build it, run its self-test, check what went in and what stayed out."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal import selftest

ROOT = Path(__file__).resolve().parents[2]
APP = "ennichi-terminal"
# PyInstaller's work folder is shared between runs so a rebuild is incremental; the lock keeps two
# test runs in the same checkout from building into it at once.
WORK = ROOT / "build" / "pyinstaller"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""
SERVER_SIDE = ("server", "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg", "jinja2",
               "pytest", "_pytest", "hypothesis", "mypy", "playwright", "schemathesis", "tkinter")


def _env() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _self_test_lines(stdout: str) -> list[dict[str, Any]]:
    """Parse the self-test output: one JSON object per line, nothing else on stdout."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _assert_all_passed(proc: subprocess.CompletedProcess[str], *, frozen: bool) -> None:
    assert proc.returncode == 0, f"self-test failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    lines = _self_test_lines(proc.stdout)
    names = [line["check"] for line in lines]
    assert names == [*selftest.CHECKS, "summary"], names
    failed = [line for line in lines if line["ok"] is not True]
    assert not failed, failed
    summary = lines[-1]
    assert summary["frozen"] is frozen
    assert summary["detail"] == f"{len(selftest.CHECKS)}/{len(selftest.CHECKS)} checks passed"


# ---------------------------------------------------------------- unfrozen


def test_entry_script_self_test_passes_unfrozen() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "packaging" / "terminal_entry.py"), "--self-test"],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=240)
    _assert_all_passed(proc, frozen=False)


def test_entry_script_dispatches_to_the_terminal(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "packaging" / "terminal_entry.py"), "--headless", "--no-sync",
                           "--data-dir", str(tmp_path / "t")], input='{"cmd": "status"}\n{"cmd": "quit"}\n',
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout.splitlines()[0])
    assert status["ok"] is True and status["status"]["enrolled"] is False
    assert (tmp_path / "t" / "terminal.db").exists()


def test_a_failing_check_fails_the_self_test(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_work: Path) -> str:
        raise selftest.CheckFailed("the decoder is gone")

    def crashing(_work: Path) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(selftest, "CHECKS", {"crypto": selftest.check_crypto, "decoder": broken, "store": crashing})
    assert selftest.main(["--self-test"]) == 1
    lines = _self_test_lines(capsys.readouterr().out)
    assert [(line["check"], line["ok"]) for line in lines] == [
        ("crypto", True), ("decoder", False), ("store", False), ("summary", False)]
    assert lines[1]["detail"] == "the decoder is gone"
    assert lines[2]["detail"] == "RuntimeError: boom"


def test_only_runs_the_named_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert selftest.main(["--self-test", "--only", "crypto", "--only", "store"]) == 0
    assert [line["check"] for line in _self_test_lines(capsys.readouterr().out)] == ["store", "crypto", "summary"]


def test_unknown_check_is_bad_usage() -> None:
    with pytest.raises(SystemExit) as exc:
        selftest.main(["--self-test", "--only", "nope"])
    assert exc.value.code == 2


# ---------------------------------------------------------------- frozen


@pytest.fixture(scope="module")
def built_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the one-folder app with the build script into a fresh dist folder; yields the app folder."""
    dist = tmp_path_factory.mktemp("dist")
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK.parent / "pyinstaller.lock", "w") as lock:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["bash", str(ROOT / "packaging" / "build_terminal.sh"), "--dist", str(dist),
                               "--work", str(WORK)], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, f"build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
    app = dist / APP
    assert (app / f"{APP}{EXE_SUFFIX}").is_file()
    yield app
    shutil.rmtree(dist, ignore_errors=True)  # ~370 MB; pytest keeps the last three runs' temp folders


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_built_app_passes_its_self_test(built_app: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(built_app / f"{APP}{EXE_SUFFIX}"), "--self-test"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=240)
    _assert_all_passed(proc, frozen=True)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_built_app_runs_the_headless_terminal(built_app: Path, tmp_path: Path) -> None:
    proc = subprocess.run([str(built_app / f"{APP}{EXE_SUFFIX}"), "--headless", "--no-sync", "--data-dir",
                           str(tmp_path / "t")], input='{"cmd": "status"}\n{"cmd": "nope"}\n{"cmd": "quit"}\n',
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    first, second, bye = (json.loads(line) for line in proc.stdout.splitlines())
    assert first["ok"] is True and first["status"]["unsynced_count"] == 0
    assert second == {"ok": False, "error": "unknown command 'nope'"}
    assert bye["ok"] is True


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_built_app_leaves_the_server_and_test_tools_out(built_app: Path) -> None:
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(built_app / f"{APP}{EXE_SUFFIX}"))
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)
    tops = {name.split(".")[0] for name in modules}
    assert {"terminal", "sync", "scanner", "ui", "PySide6", "zxingcpp", "pyzbar", "httpx"} <= tops
    assert not tops & set(SERVER_SIDE), sorted(tops & set(SERVER_SIDE))
    assert "terminal.selftest" in modules and "ui.app" in modules
    internal = built_app / "_internal"
    on_disk = {p.name for p in internal.iterdir()}
    assert not on_disk & set(SERVER_SIDE), sorted(on_disk & set(SERVER_SIDE))
    qt_bindings = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.*") if p.suffix in (".so", ".pyd")}
    assert qt_bindings <= {"QtCore", "QtGui", "QtWidgets"}, sorted(qt_bindings)
    if sys.platform.startswith("linux"):
        assert (internal / "libzbar.so.0").is_file()
        assert not (internal / "libgtk-3.so.0").exists()


# ---------------------------------------------------------------- server deployment files


def _server_default_body_limit() -> int:
    from server.settings import ServerSettings

    return ServerSettings().max_body_bytes


def test_nginx_body_limit_matches_the_server() -> None:
    conf = (ROOT / "packaging" / "nginx" / "ennichi.conf").read_text(encoding="utf-8")
    sizes = re.findall(r"^\s*client_max_body_size\s+(\d+)([kKmM]?);", conf, flags=re.MULTILINE)
    assert sizes, "client_max_body_size missing"
    factor = {"": 1, "k": 1024, "m": 1024 * 1024}
    assert {int(n) * factor[unit.lower()] for n, unit in sizes} == {_server_default_body_limit()}
    env = (ROOT / "packaging" / "systemd" / "ennichi-server.env").read_text(encoding="utf-8")
    assert f"ENNICHI_MAX_BODY_BYTES={_server_default_body_limit()}" in env.splitlines()
    assert re.search(r"^\s*server 127\.0\.0\.1:8000\b", conf, flags=re.MULTILINE)
    assert "return 301 https://$host$request_uri;" in conf


def test_systemd_unit_runs_commands_that_exist() -> None:
    unit = (ROOT / "packaging" / "systemd" / "ennichi-server.service").read_text(encoding="utf-8")
    commands = re.findall(r"^Exec\w+=\S*/ennichi (.+)$", unit, flags=re.MULTILINE)
    assert "server run" in [c.strip() for c in commands]
    for command in commands:
        proc = subprocess.run([sys.executable, "-m", "terminal.cli", *command.split(), "--help"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"ennichi {command} --help: {proc.stderr}"
    for option in ("User=ennichi", "Restart=on-failure", "ProtectSystem=strict", "ReadWritePaths=/var/lib/ennichi",
                   "NoNewPrivileges=yes", "PrivateTmp=yes", "EnvironmentFile=/etc/ennichi/server.env"):
        assert option in unit.splitlines(), option


def test_systemd_template_runs_one_process_per_port() -> None:
    unit = (ROOT / "packaging" / "systemd" / "ennichi-server@.service").read_text(encoding="utf-8").splitlines()
    assert "ExecStart=/opt/ennichi/bin/ennichi server run --port %i" in unit
    assert not [line for line in unit if line.startswith("ExecStartPre=")]  # one upgrade, not one per instance
    single = (ROOT / "packaging" / "systemd" / "ennichi-server.service").read_text(encoding="utf-8").splitlines()
    hardening = {line for line in single if line.startswith(("Protect", "Private", "Restrict", "NoNew", "ReadWrite"))}
    assert hardening <= set(unit)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", ["ennichi-server.service", "ennichi-server@8001.service"])
def test_systemd_unit_verifies(unit: str, tmp_path: Path) -> None:
    source = ROOT / "packaging" / "systemd" / ("ennichi-server@.service" if "@" in unit else unit)
    (tmp_path / unit).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in proc.stderr.splitlines() if "is not executable" not in line and line.strip()]
    assert not problems, problems


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_config_is_valid(tmp_path: Path) -> None:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem"), "-days", "1", "-subj", "/CN=ennichi.example.org"],
                   check=True, capture_output=True, timeout=60)
    site = (ROOT / "packaging" / "nginx" / "ennichi.conf").read_text(encoding="utf-8")
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/fullchain\.pem", str(tmp_path / "c.pem"), site)
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/privkey\.pem", str(tmp_path / "k.pem"), site)
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                                         f"events {{}}\nhttp {{ include {tmp_path}/site.conf; }}\n", encoding="utf-8")
    proc = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
