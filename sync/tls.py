"""The venue server's own certificate, pinned by the terminals from the enrollment code.

A school's venue server has no certificate a public CA would sign (it lives at
``https://192.168.1.20:8443`` on the venue's Wi-Fi).  So the server makes its own
(``server.tls``) and every enrollment code carries the SHA-256 of that
certificate (``#pin=<hex>``).  At enrollment the terminal fetches the server's
certificate, refuses it unless its hash equals the pin, and stores it in its data
folder; from then on that one certificate is the only trust anchor of every
connection the terminal makes (``ssl.SSLContext`` with it as the sole CA).

Host names are not checked against a pinned certificate: the pin *is* the
server's identity (only the holder of its private key can complete a handshake
under it), and venue laptops change addresses with the Wi-Fi's DHCP.  Without a
pin (a public host with a CA-signed certificate) the system's CAs and the usual
host name check apply.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "PINNED_CERT_NAME",
    "PinMismatch",
    "TlsError",
    "certificate_pin",
    "fetch_pinned_certificate",
    "verify_for",
]

PINNED_CERT_NAME = "server-cert.pem"


class TlsError(Exception):
    """The server's certificate could not be fetched or checked; the message is safe to show."""


class PinMismatch(TlsError):
    """The server presented a certificate other than the one the enrollment code names."""


def certificate_pin(der: bytes) -> str:
    """The pin of a DER certificate: SHA-256, lower-case hex (64 characters)."""
    return hashlib.sha256(der).hexdigest()


def fetch_pinned_certificate(url: str, pin: str, *, timeout_s: float = 5.0) -> str:
    """Fetch the certificate ``url``'s server presents and return it as PEM if its pin is ``pin``.

    Raises PinMismatch (another certificate: a wrong server, or someone in between)
    or TlsError (no TLS server there, unreachable, timeout).
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise TlsError("a pinned server must be reached over https")
    port = parts.port or 443
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # we only read the certificate here, and judge it by its pin
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s) as raw, \
                ctx.wrap_socket(raw, server_hostname=parts.hostname) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"cannot reach the server's TLS port at {parts.hostname}:{port} ({exc})") from exc
    if not der:
        raise TlsError("the server presented no certificate")
    if not hmac.compare_digest(certificate_pin(der), pin.lower()):
        raise PinMismatch("the server's certificate is not the one in the enrollment code")
    return ssl.DER_cert_to_PEM_cert(der)


def verify_for(data_dir: Path) -> ssl.SSLContext | bool:
    """What a terminal's HTTP client verifies: the pinned certificate if enrollment stored one, else the system CAs."""
    pem = data_dir / PINNED_CERT_NAME
    if not pem.is_file():
        return True
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pem))
    ctx.check_hostname = False  # the pin is the identity (see the module's docstring)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
