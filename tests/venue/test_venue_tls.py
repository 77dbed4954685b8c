"""Venue mode over HTTPS with the server's own certificate: terminals pin it from the enrollment code.

A real ``ennichi server run --tls`` child process on loopback; real terminal engines enroll against it,
sell and sync; a code with another pin, and a server whose certificate changed under a pinned terminal,
are refused with a clear reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.settings import ServerSettings
from server.testing import Seeder, init_test_event, loopback_socket
from server.tls import CERT_NAME, certificate_pin_of
from sync.enrollment import EnrollmentCode, EnrollmentCodeError
from sync.ids import format_short_id
from sync.tls import PINNED_CERT_NAME
from terminal.decisions import Cart
from terminal.engine import Terminal
from terminal.errors import EnrollmentFailed

PIN = "1234"
REPO = Path(__file__).resolve().parents[2]


class TlsServer:
    """``ennichi server run --tls`` as a child process on a loopback port."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        with loopback_socket() as sock:
            self.port = sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "ENNICHI_DATA_DIR": str(self.settings.data_dir), "ENNICHI_LOG_LEVEL": "warning"}
        log = (self.settings.data_dir / "server.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "terminal.cli", "server", "run", "--host", "127.0.0.1",
                                      "--port", str(self.port), "--tls"], cwd=REPO, env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
        cert = self.settings.tls_dir / CERT_NAME
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.settings.data_dir / "server.log").read_text()
            if cert.is_file():
                try:
                    import ssl

                    ctx = ssl.create_default_context(cafile=str(cert))
                    ctx.check_hostname = False
                    if httpx.get(f"{self.url}/api/v1/health", verify=ctx, timeout=2).status_code == 200:
                        return
                except (httpx.HTTPError, OSError):
                    pass
            time.sleep(0.1)
        raise RuntimeError("the TLS server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(20)
            self.proc = None


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[tuple[TlsServer, Seeder, int, int]]:
    settings, _ = init_test_event(tmp_path / "server")
    seed = Seeder(settings)
    stall = seed.stall("Yatai")
    seed.product(stall, "Yakisoba", 500)
    cashier = seed.staff("Hana", pin=PIN, roles=[("cashier", "stall", stall)])
    server = TlsServer(settings)
    server.start()
    yield server, seed, stall, cashier
    server.stop()
    seed.close()


def _pinned_code(server: TlsServer, seed: Seeder, stall: int, pin: str | None = None) -> str:
    tls_settings = ServerSettings.load(data_dir=server.settings.data_dir, env={}, tls=True)
    return seed.enrollment_code("stall", stall_id=stall, base_url=server.url, pin=pin or tls_settings.tls_pin)


def test_a_terminal_enrolls_sells_and_syncs_over_the_pinned_certificate(venue, tmp_path: Path) -> None:
    server, seed, stall, cashier = venue
    code = _pinned_code(server, seed, stall)
    assert "#pin=" in code and EnrollmentCode.parse(code).pin == certificate_pin_of(server.settings.tls_dir)
    wallet = seed.wallet(2000)
    term = Terminal.open(tmp_path / "t")
    term.enroll(code, name="stall 1")
    assert (term.data_dir / PINNED_CERT_NAME).read_text().strip() == \
        (server.settings.tls_dir / CERT_NAME).read_text().strip()
    assert term.sync_now().online
    assert term.login(seed.badge(cashier), PIN).ok
    product = term.catalog()[0].id
    decision = term.sell(Cart.of([(product, 1)]), format_short_id(wallet))
    assert decision.approved
    status = term.sync_now()
    assert status.online and status.unsynced_count == 0
    term.close()


def test_a_code_naming_another_certificate_is_refused_and_not_spent(venue, tmp_path: Path) -> None:
    server, seed, stall, _ = venue
    real = _pinned_code(server, seed, stall)
    forged = real.replace(EnrollmentCode.parse(real).pin, "ab" * 32)
    term = Terminal.open(tmp_path / "t")
    with pytest.raises(EnrollmentFailed) as caught:
        term.enroll(forged)
    assert caught.value.reason == "pin_mismatch" and not term.enrolled
    assert not (term.data_dir / PINNED_CERT_NAME).exists()
    term.enroll(real)  # the one-time code was never sent to the server that failed the pin
    assert term.enrolled
    term.close()


def test_a_pinned_terminal_refuses_a_server_with_another_certificate(venue, tmp_path: Path) -> None:
    server, seed, stall, _ = venue
    term = Terminal.open(tmp_path / "t")
    term.enroll(_pinned_code(server, seed, stall))
    assert term.sync_now().online
    server.stop()
    shutil.rmtree(server.settings.tls_dir)  # an impostor on the same address: a new certificate
    server.start()
    status = term.sync_now()
    assert not status.online
    term.close()


def test_pin_text_is_checked() -> None:
    base = "EE1:7Q2M9XKDAB3RPF1Z@https://10.0.0.2:8443"
    assert EnrollmentCode.parse(base + "#pin=" + "0f" * 32).pin == "0f" * 32
    for bad in (base + "#pin=zz", base + "#pin=" + "0" * 63, base + "#x=1",
                "EE1:7Q2M9XKDAB3RPF1Z@http://10.0.0.2:8000#pin=" + "0f" * 32):
        with pytest.raises(EnrollmentCodeError):
            EnrollmentCode.parse(bad)
    assert EnrollmentCode.parse(EnrollmentCode("https://h:1", "7Q2M9XKDAB3RPF1Z", "ab" * 32).text()).pin == "ab" * 32
