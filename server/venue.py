"""Venue mode: the address laptops and phones on the venue's network really reach, said out loud.

``ennichi server run --host 0.0.0.0`` (and ``ennichi demo --host 0.0.0.0``) listens on
every network of the machine.  Enrollment codes and My page links must then name
an address the others can reach, not ``0.0.0.0`` or ``127.0.0.1``: unless
``--public-url`` says otherwise, it is this machine's first address on a real
network.  ``announce`` prints that address, the dashboard and My page links and a
QR code of My page, in Japanese and English, so a teacher can check it from a phone.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
from dataclasses import replace
from typing import TextIO
from urllib.parse import urlsplit

import segno

from server.settings import ServerSettings

__all__ = ["announce", "lan_addresses", "venue_settings"]

_ANY = ("0.0.0.0", "::", "")  # noqa: S104 (listening everywhere is what venue mode is for)


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses on real networks (not loopback, not link-local), best first."""
    found: list[str] = []
    try:  # Linux: iproute2 lists every interface's addresses without sending anything
        out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                             text=True, timeout=3, check=False).stdout
        for line in out.splitlines():
            parts = line.split()
            if "inet" in parts:
                found.append(parts[parts.index("inet") + 1].split("/")[0])
    except (OSError, subprocess.SubprocessError):
        pass
    if not found:  # elsewhere: what the host name resolves to
        try:
            found = socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:
            found = []
    usable = []
    for text in dict.fromkeys(found):
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
            usable.append(text)
    # private (venue Wi-Fi) addresses first: that is where the laptops and phones are
    return sorted(usable, key=lambda a: not ipaddress.ip_address(a).is_private)


def venue_settings(settings: ServerSettings) -> ServerSettings:
    """Fill in the public URL for a server listening everywhere, and make its certificate when TLS is on."""
    if not settings.public_url and settings.host in _ANY:
        addresses = lan_addresses()
        if addresses:
            scheme = "https" if settings.tls else "http"
            settings = replace(settings, public_url=f"{scheme}://{addresses[0]}:{settings.port}")
    if settings.tls:
        from server.tls import ensure_certificate

        host = urlsplit(settings.base_url).hostname or settings.host
        names = [n for n in [host, settings.host, *lan_addresses()] if n and n not in _ANY]
        ensure_certificate(settings.tls_dir, names)
    return settings


def announce(settings: ServerSettings, out: TextIO | None = None) -> None:
    """Print where the server is reached, with a QR code of My page for phones."""
    out = out or sys.stdout
    url = settings.base_url
    host = urlsplit(url).hostname or ""
    lines = [
        f"Ennichi server / サーバー: {url}",
        f"  dashboard / 管理画面: {url}/admin",
        f"  My page / マイページ: {url}/my",
    ]
    if settings.tls:
        lines.append(f"  certificate pin / 証明書のピン: {settings.tls_pin[:16]}… "
                     "(in every enrollment code / 登録コードに含まれます)")
    if host in ("127.0.0.1", "localhost", "::1"):
        lines.append("  only this machine reaches it; for other laptops and phones use --host 0.0.0.0 / "
                     "このパソコンからしか届きません。ほかの端末やスマホからは --host 0.0.0.0 で起動してください")
    print("\n".join(lines), file=out, flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("  scan with a phone on the venue Wi-Fi / 会場のWi-Fiにつないだスマホで読み取り:", file=out)
        segno.make(f"{url}/my", error="m").terminal(out=out, compact=True)
        out.flush()
