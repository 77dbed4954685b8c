"""packaging/install-server.sh: the files it writes, checked by their own tools, and the service reached over HTTPS.

The script runs for real into a staging root (``--root``: every file under a temporary folder, no
apt, no user, no pip: the test's own venv is the prefix).  systemd-analyze verifies the units it wrote,
caddy validates its Caddyfile, and then the service's own command line (ExecStart with the env file
it wrote) serves an event behind Caddy run with that site file and Caddy's internal CA on loopback:
health, My page and the dashboard answer over HTTPS, and plain HTTP is redirected.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.testing import init_test_event

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "install-server.sh"
PREFIX = Path(sys.prefix)


def _install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), "--root", str(root), "--prefix", str(PREFIX), "--no-apt",
                           "--no-user", "--no-pip", *args], capture_output=True, text=True, timeout=120)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bad_arguments_are_refused_with_a_reason(tmp_path: Path) -> None:
    for args, says in ((("--domain", "x.org", "--venue"), "not both"), ((), "--domain HOST"),
                       (("--domain", "bad host;rm"), "host name"), (("--venue", "--port", "99999"), "1-65535"),
                       (("--bogus",), "unknown option")):
        proc = _install(tmp_path / "r", *args)
        assert proc.returncode != 0 and says in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("mode", [("--venue",), ("--domain", "fest.example.org", "--email", "t@example.org")])
def test_the_units_it_writes_verify(mode: tuple[str, ...], tmp_path: Path) -> None:
    proc = _install(tmp_path, *mode)
    assert proc.returncode == 0, proc.stderr
    units = tmp_path / "etc" / "systemd" / "system"
    names = ["ennichi-server.service", "ennichi-backup.service", "ennichi-backup.timer"]
    for name in names:
        text = (units / name).read_text(encoding="utf-8")
        assert "/opt/ennichi/" not in text and (name.endswith(".timer") or f"{PREFIX}/bin/ennichi" in text)
    check = subprocess.run(["systemd-analyze", "verify", *(str(units / n) for n in names)], capture_output=True,
                           text=True, timeout=60)
    problems = [line for line in check.stderr.splitlines() if line.strip() and "is not executable" not in line]
    assert not problems, problems
    env = (tmp_path / "etc" / "ennichi" / "server.env").read_text(encoding="utf-8")
    if mode[0] == "--venue":
        assert "ENNICHI_HOST=0.0.0.0" in env and "ENNICHI_TLS=1" in env and "ENNICHI_PORT=8443" in env
        assert not (tmp_path / "etc" / "caddy").exists()
    else:
        assert "ENNICHI_HOST=127.0.0.1" in env and "ENNICHI_PUBLIC_URL=https://fest.example.org" in env
        site = (tmp_path / "etc" / "caddy" / "ennichi.caddy").read_text(encoding="utf-8")
        assert site.count("fest.example.org {") == 1 and "reverse_proxy 127.0.0.1:8000" in site
        assert "t@example.org" in (tmp_path / "etc" / "caddy" / "Caddyfile").read_text(encoding="utf-8")
    again = _install(tmp_path, *mode)  # an upgrade keeps the settings it wrote
    assert again.returncode == 0 and (tmp_path / "etc" / "ennichi" / "server.env").read_text() == env


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_the_service_answers_over_https_behind_caddy(tmp_path: Path) -> None:
    port, https_port, http_port = _port(), _port(), _port()
    proc = _install(tmp_path / "root", "--domain", "localhost", "--port", str(port))
    assert proc.returncode == 0, proc.stderr
    etc = tmp_path / "root" / "etc"
    check = subprocess.run(["caddy", "validate", "--config", str(etc / "caddy" / "Caddyfile"), "--adapter",
                            "caddyfile"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert check.returncode == 0, check.stderr
    # The service's own command line, with the environment file it was given (the data folder moved here).
    unit = (etc / "systemd" / "system" / "ennichi-server.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.+)$", unit, flags=re.MULTILINE)
    assert exec_start is not None
    env = dict(line.split("=", 1) for line in (etc / "ennichi" / "server.env").read_text().splitlines()
               if line and not line.startswith("#"))
    data = tmp_path / "data"
    init_test_event(data)
    env.update(ENNICHI_DATA_DIR=str(data), ENNICHI_LOG_LEVEL="warning")
    server = subprocess.Popen(exec_start.group(1).split(), env={**os.environ, **env}, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Caddy with the site file the script wrote, its internal CA instead of an ACME one, on spare ports.
    (tmp_path / "Caddyfile").write_text(
        "{\n\tadmin off\n\tskip_install_trust\n\tlocal_certs\n"
        f"\thttp_port {http_port}\n\thttps_port {https_port}\n\tstorage file_system {tmp_path / 'caddy'}\n}}\n"
        f"import {etc / 'caddy' / 'ennichi.caddy'}\n", encoding="utf-8")
    caddy = subprocess.Popen(["caddy", "run", "--config", str(tmp_path / "Caddyfile"), "--adapter", "caddyfile"],
                             env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")},
                             stdout=subprocess.DEVNULL, stderr=(tmp_path / "caddy.log").open("w"))
    try:
        root_ca = tmp_path / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline:
            assert server.poll() is None and caddy.poll() is None, (tmp_path / "caddy.log").read_text()
            if root_ca.is_file():
                try:
                    answer = httpx.get(f"https://localhost:{https_port}/api/v1/health",
                                       verify=ssl.create_default_context(cafile=str(root_ca)), timeout=3)
                    if answer.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        assert answer is not None and answer.status_code == 200, (tmp_path / "caddy.log").read_text()
        assert "max-age=31536000" in answer.headers["strict-transport-security"]
        trust = ssl.create_default_context(cafile=str(root_ca))
        with httpx.Client(verify=trust, timeout=5, follow_redirects=True) as client:
            for path in ("/my", "/admin"):  # both send a stranger to their sign-in page, over https
                page = client.get(f"https://localhost:{https_port}{path}")
                assert page.status_code == 200 and page.url.scheme == "https" and "<form" in page.text, path
            big = client.post(f"https://localhost:{https_port}/api/v1/push", content=b"x" * (3 * 1024 * 1024))
            assert big.status_code == 413 and "request too large" in big.text  # by the proxy, before the server
        plain = httpx.get(f"http://localhost:{http_port}/my", timeout=5)
        assert plain.status_code in (301, 308) and plain.headers["location"].startswith("https://localhost")
    finally:
        caddy.terminate()
        server.terminate()
        caddy.wait(20)
        server.wait(20)
