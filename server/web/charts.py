"""Small inline SVG charts drawn on the server (no JavaScript library, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bar_chart", "line_chart"]

_W, _H, _PAD_L, _PAD_B, _PAD_T = 640, 200, 56, 24, 12


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return value


def _axis(top: int, fmt: object) -> str:
    parts = []
    for i in range(5):
        value = top * i // 4
        y = _H - _PAD_B - (_H - _PAD_B - _PAD_T) * i / 4
        label = fmt(value) if callable(fmt) else str(value)
        parts.append(f'<line x1="{_PAD_L}" x2="{_W}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{_PAD_L - 6}" y="{y + 4:.1f}" class="ylab">{escape(label)}</text>')
    return "".join(parts)


def bar_chart(values: Sequence[int], labels: Sequence[str], *, title: str, fmt: object = str,
              label_every: int = 1) -> Markup:
    """A bar chart of non-negative integers, one bar per label."""
    top = _nice_max(max(values, default=0))
    n = max(1, len(values))
    slot = (_W - _PAD_L) / n
    bars = []
    for i, value in enumerate(values):
        h = (_H - _PAD_B - _PAD_T) * max(0, value) / top
        x = _PAD_L + i * slot
        text = fmt(value) if callable(fmt) else str(value)
        bars.append(f'<rect x="{x + slot * 0.15:.1f}" y="{_H - _PAD_B - h:.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{h:.1f}" class="bar"><title>{escape(labels[i])}: {escape(text)}</title></rect>')
        if i % label_every == 0:
            bars.append(f'<text x="{x + slot / 2:.1f}" y="{_H - 6}" class="xlab">{escape(labels[i])}</text>')
    return Markup(  # noqa: S704 - every text inside went through escape()
        f'<svg viewBox="0 0 {_W} {_H}" class="chart" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{_axis(top, fmt)}{''.join(bars)}</svg>"
    )


def line_chart(values: Sequence[int], labels: Sequence[str], *, title: str, label_every: int = 1) -> Markup:
    """A step line of integers over time (people inside the gates)."""
    top = _nice_max(max(values, default=0))
    n = max(1, len(values) - 1)
    span = _W - _PAD_L
    points = []
    for i, value in enumerate(values):
        x = _PAD_L + span * i / n
        y = _H - _PAD_B - (_H - _PAD_B - _PAD_T) * max(0, value) / top
        points.append(f"{x:.1f},{y:.1f}")
    marks = [f'<text x="{_PAD_L + span * i / n:.1f}" y="{_H - 6}" class="xlab">{escape(label)}</text>'
             for i, label in enumerate(labels) if i % label_every == 0]
    return Markup(  # noqa: S704 - every text inside went through escape()
        f'<svg viewBox="0 0 {_W} {_H}" class="chart" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{_axis(top, str)}"
        f'<polyline points="{" ".join(points)}" class="line"/>{"".join(marks)}</svg>'
    )
