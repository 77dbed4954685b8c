"""Reading typed form values: money, optional integers, check boxes."""

from __future__ import annotations

from server.web.i18n import translate
from server.web.render import PageContext
from sync.money import parse_amount
from sync.schemas import CATEGORY_MAX, PRODUCT_COLOURS

__all__ = ["category_field", "checkbox", "colour_field", "money_field", "optional_int", "required_name"]


def money_field(ctx: PageContext, text: str, *, allow_negative: bool = False) -> int:
    """Parse an amount typed in the event's currency and number locale (``sync.money.parse_amount``).

    Raises AmountError (a ValueError) with the refusal in the page's language.
    """
    return parse_amount(text, ctx.currency, locale=ctx.number_locale, lang=ctx.lang, allow_negative=allow_negative)


def required_name(ctx: PageContext, text: str | None) -> str:
    """A name with its outer spaces removed; blank or only spaces is refused (ValueError in the page's language)."""
    name = (text or "").strip()
    if not name:
        raise ValueError(ctx.t("error.blank_name"))
    return name


def optional_int(text: str | None, ctx: PageContext | None = None) -> int | None:
    """Blank means None; raises ValueError (in ctx's language, English without one) for text that is not an
    integer or is out of range."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "").strip()  # full-width digits read as ASCII
    if not text:
        return None
    say = ctx.t if ctx is not None else (lambda key, **v: translate("en", key, **v))
    try:
        value = int(text)
    except ValueError as exc:
        raise ValueError(say("error.not_whole", text=text[:20])) from exc
    if not -(10**9) <= value <= 10**9:  # stock, quotas and ids: far below int64, so never a 500 from the database
        raise ValueError(say("error.int_range", text=text[:20]))
    return value


def checkbox(value: str | None) -> bool:
    """An HTML check box is present ("on") when ticked."""
    return value is not None and value != ""


def category_field(ctx: PageContext, text: str | None) -> str:
    """A product category as typed, its spaces folded ("" for none); too long is refused in the page's language."""
    value = " ".join((text or "").split())
    if len(value) > CATEGORY_MAX:
        raise ValueError(ctx.t("error.category_long", n=CATEGORY_MAX))
    return value


def colour_field(ctx: PageContext, text: str | None) -> str | None:
    """A product button colour chosen from the palette (None: plain); anything else is refused."""
    value = (text or "").strip()
    if not value:
        return None
    if value not in PRODUCT_COLOURS:
        raise ValueError(ctx.t("error.colour"))
    return value
