"""QR codes as inline SVG (segno), sized for printing or for a phone held to a webcam."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup

__all__ = ["qr_svg"]


def qr_svg(text: str, *, scale: int = 8, error: str = "m", border: int = 4, mask: int | None = None) -> Markup:
    """Return ``text`` as an SVG QR code (alphanumeric mode where the text allows it).

    ``mask`` None lets segno try all eight masks (about 7 ms a code here); a fixed mask takes a quarter of
    that, for pages of a thousand codes read by phone cameras (letters), never for tokens a webcam reads.
    """
    code = segno.make_qr(text, error=error, boost_error=False, mask=mask)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=border, xmldecl=False, svgns=True, svgclass="qr",
              lineclass=None, omitsize=True, dark="#000", light="#fff")
    return Markup(out.getvalue().decode("utf-8"))  # noqa: S704 - segno's own SVG, no user markup
