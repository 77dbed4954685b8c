"""A venue LAN made of network namespaces: the server in one, two stall laptops in others, one switch.

The test builds its own hosts (``ip netns``, veth pairs, a Linux bridge in a "switch" namespace,
addresses in 198.18.7.0/24, the benchmarking range, that exist only inside these namespaces), runs
``ennichi server run --host 0.0.0.0 --tls`` in the server's namespace (venue mode finds its own
address), and real headless terminals in the laptops' namespaces.  Enrollment over the bridge with
the certificate pin; sales; one laptop's cable cut and sales going on offline; the cable back and
every record on the server exactly once; and a code with a wrong pin refused with a clear reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from server.db import tables as t
from server.settings import ServerSettings
from server.testing import Seeder, init_test_event
from sync.ids import format_short_id

REPO = Path(__file__).resolve().parents[2]
NET = "198.18.7"
PORT = 8443
PIN = "1234"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


def _netns_available() -> str:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 to make network namespaces"
    probe = f"en-probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
        _ip("netns", "del", probe)
    except subprocess.CalledProcessError as exc:
        return f"cannot make network namespaces here: {exc.stderr.decode(errors='replace').strip()}"
    return ""


class Lan:
    """server, laptop a, laptop b: each a namespace with one veth into the switch's bridge."""

    def __init__(self) -> None:
        tag = os.getpid() % 100000
        self.switch = f"en-sw-{tag}"
        self.hosts = {"server": (f"en-srv-{tag}", f"{NET}.1"), "a": (f"en-a-{tag}", f"{NET}.2"),
                      "b": (f"en-b-{tag}", f"{NET}.3")}
        _ip("netns", "add", self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        for i, (name, (ns, address)) in enumerate(self.hosts.items()):
            _ip("netns", "add", ns)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("link", "add", f"en{tag}h{i}", "type", "veth", "peer", "name", f"en{tag}s{i}")
            _ip("link", "set", f"en{tag}h{i}", "netns", ns, "name", "eth0")
            _ip("link", "set", f"en{tag}s{i}", "netns", self.switch, "name", f"port-{name}")
            _ip("-n", self.switch, "link", "set", f"port-{name}", "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")

    def cable(self, host: str, *, up: bool) -> None:
        """Plug or unplug ``host``'s cable at the switch."""
        _ip("-n", self.switch, "link", "set", f"port-{host}", "up" if up else "down")

    def run(self, host: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(["ip", "netns", "exec", self.hosts[host][0], *argv], cwd=REPO, text=True, **kwargs)

    def close(self) -> None:
        for ns, _ in self.hosts.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20, check=False)
        subprocess.run(["ip", "netns", "del", self.switch], capture_output=True, timeout=20, check=False)


class Laptop:
    """A headless terminal engine (``ennichi terminal --headless``) in one of the LAN's hosts."""

    def __init__(self, lan: Lan, host: str, data_dir: Path) -> None:
        self.proc = lan.run(host, [sys.executable, "-m", "terminal.cli", "terminal", "--headless", "--data-dir",
                                   str(data_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(REPO)})

    def __call__(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the terminal died during {cmd}"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            self("quit")
            self.proc.wait(30)


@pytest.fixture
def lan() -> Iterator[Lan]:
    why = _netns_available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    lan = Lan()
    yield lan
    lan.close()


def _start_server(lan: Lan, settings: ServerSettings) -> subprocess.Popen[str]:
    log = (settings.data_dir / "server.log").open("a")
    proc = lan.run("server", [sys.executable, "-m", "terminal.cli", "server", "run", "--host", "0.0.0.0",  # noqa: S104
                              "--port", str(PORT), "--tls"], stdout=log, stderr=subprocess.STDOUT,
                   env={**os.environ, "ENNICHI_DATA_DIR": str(settings.data_dir), "ENNICHI_LOG_LEVEL": "warning",
                        "PYTHONPATH": str(REPO)})
    probe = ("import ssl,sys,httpx\nctx=ssl.create_default_context(cafile=sys.argv[1]);ctx.check_hostname=False\n"
             "sys.exit(0 if httpx.get(sys.argv[2],verify=ctx,timeout=2).status_code==200 else 1)")
    deadline = time.monotonic() + 90
    cert = settings.tls_dir / "cert.pem"
    while time.monotonic() < deadline:
        assert proc.poll() is None, (settings.data_dir / "server.log").read_text()
        if cert.is_file() and lan.run("a", [sys.executable, "-c", probe, str(cert),
                                            f"https://{NET}.1:{PORT}/api/v1/health"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait(20) == 0:
            return proc
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the venue server did not come up: " + (settings.data_dir / "server.log").read_text())


def test_two_laptops_enroll_sell_lose_the_cable_and_catch_up(lan: Lan, tmp_path: Path) -> None:
    settings, _ = init_test_event(tmp_path / "server")
    seed = Seeder(settings)
    stall = seed.stall("Yatai")
    product = seed.product(stall, "Yakisoba", 300)
    cashier = seed.staff("Hana", pin=PIN, roles=[("cashier", "stall", stall)])
    wallets = [seed.wallet(5000) for _ in range(4)]
    server = _start_server(lan, settings)
    laptops: list[Laptop] = []
    try:
        printed = (settings.data_dir / "server.log").read_text()
        assert f"https://{NET}.1:{PORT}/my" in printed  # venue mode named the address the others reach
        pin = ServerSettings.load(data_dir=settings.data_dir, env={}, tls=True).tls_pin
        url = f"https://{NET}.1:{PORT}"
        a, b = Laptop(lan, "a", tmp_path / "a"), Laptop(lan, "b", tmp_path / "b")
        laptops += [a, b]
        for laptop, name in ((a, "laptop a"), (b, "laptop b")):
            answer = laptop("enroll", code=seed.enrollment_code("stall", stall_id=stall, base_url=url, pin=pin),
                            name=name)
            assert answer["ok"], answer
            assert laptop("sync")["ok"]
            assert laptop("login", badge=seed.badge(cashier), pin=PIN)["ok"]
        sold: list[str] = []
        for i, wallet in enumerate(wallets):
            for laptop in (a, b):
                answer = laptop("sell", wallet=format_short_id(wallet), items=[[product, 1]])
                assert answer["approved"], answer
                sold.append(answer["id"])
            if i == 1:
                lan.cable("a", up=False)  # laptop a loses the Wi-Fi halfway through
                assert not a("sync")["ok"]
        assert not a("status")["status"]["online"] and a("status")["status"]["unsynced_count"] >= 2
        assert b("sync")["ok"]
        lan.cable("a", up=True)
        deadline = time.monotonic() + 30
        while not a("sync")["ok"] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert a("status")["status"]["unsynced_count"] == 0
        with seed.db.read() as conn:
            rows = conn.execute(select(t.records.c.id, func.count()).group_by(t.records.c.id)
                                .where(t.records.c.id.in_(sold))).all()
        assert sorted(r[0] for r in rows) == sorted(sold) and all(r[1] == 1 for r in rows)
        with seed.db.read() as conn:
            balances = [conn.execute(select(t.accounts.c.balance).where(t.accounts.c.kind == "wallet",
                                                                        t.accounts.c.ref == w)).scalar()
                        for w in wallets]
        assert balances == [5000 - 2 * 300] * len(wallets)

        wrong = Laptop(lan, "b", tmp_path / "c")
        laptops.append(wrong)
        code = seed.enrollment_code("stall", stall_id=stall, base_url=url, pin="ab" * 32)
        answer = wrong("enroll", code=code)
        assert not answer["ok"] and "certificate" in answer["error"]
    finally:
        for laptop in laptops:
            laptop.close()
        server.terminate()
        server.wait(30)
        seed.close()
