"""Reading typed form values: money, optional integers, check boxes."""

from __future__ import annotations

from server.web.render import PageContext

__all__ = ["checkbox", "money_field", "optional_int"]


def money_field(ctx: PageContext, text: str) -> int:
    """Parse an amount typed in the event's currency; raises MoneyError (a ValueError)."""
    return ctx.currency.parse(text)


def optional_int(text: str | None) -> int | None:
    """Blank means None; raises ValueError for text that is not an integer."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise ValueError(f"not a whole number: {text!r}") from exc


def checkbox(value: str | None) -> bool:
    """An HTML check box is present ("on") when ticked."""
    return value is not None and value != ""
