"""Server-only API models (the terminal contract lives in ``sync.schemas``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ErrorBody", "HealthResponse", "WalletAmount", "WalletCreate", "WalletInfo", "WalletPosting"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorBody(_Model):
    """Every error answer: a sentence for people, plus details for some errors."""

    detail: str
    revoked: bool | None = None
    errors: list[dict[str, object]] | None = None


class HealthResponse(_Model):
    status: str
    database: str
    server_time_ms: int


class WalletPosting(_Model):
    amount: int
    seq: int
    kind: str
    record_id: str | None
    created_at: int
    terminal_id: int | None
    note: str


class WalletInfo(_Model):
    """A wallet as staff see it."""

    wallet_id: int
    display_id: str
    balance: int
    seq: int
    blocked: bool
    overdrawn: bool
    flags: int
    history: list[WalletPosting]


class WalletCreate(_Model):
    flags: Annotated[int, Field(ge=0, le=255)] = 0


class WalletAmount(_Model):
    """An amount for an admin top-up."""

    amount: Annotated[int, Field(gt=0, le=10**9, strict=True)]
