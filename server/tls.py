"""The venue server's own TLS certificate: made once, kept in ``<data_dir>/tls``, pinned by terminals.

A venue server on a school's Wi-Fi has no domain, so no public CA will sign a
certificate for it.  It makes its own (ECDSA P-256, ten years, the addresses it
is reached by in its names) and every enrollment code carries the certificate's
SHA-256 (``sync.tls``).  Terminals then trust that certificate alone, with no CA
set up anywhere.  Phones cannot be given a pin: for My page on phones use a public
host with a real certificate (docs/venue.md).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.tls import certificate_pin

__all__ = ["CERT_NAME", "KEY_NAME", "certificate_pin_of", "ensure_certificate"]

CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"


def ensure_certificate(tls_dir: Path, names: list[str], *, now: dt.datetime | None = None) -> tuple[Path, Path]:
    """Return (certificate, key) in ``tls_dir``, making them if absent; ``names`` are host names or IPs.

    An existing certificate is kept even when ``names`` change: terminals pinned it,
    and they do not check names against a pinned certificate.
    """
    cert_path, key_path = tls_dir / CERT_NAME, tls_dir / KEY_NAME
    if cert_path.is_file() and key_path.is_file():
        return cert_path, key_path
    tls_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(tls_dir, 0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    now = now or dt.datetime.now(dt.UTC)
    alt: list[x509.GeneralName] = []
    for name in dict.fromkeys([*names, "localhost", "127.0.0.1"]):
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ennichi venue server"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ennichi")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    tmp_key = key_path.with_suffix(".tmp")
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    os.replace(tmp_key, key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def certificate_pin_of(tls_dir: Path) -> str:
    """The pin of the certificate in ``tls_dir``; raises FileNotFoundError when none was made."""
    cert = x509.load_pem_x509_certificate((tls_dir / CERT_NAME).read_bytes())
    return certificate_pin(cert.public_bytes(serialization.Encoding.DER))
