"""The demo CRM configuration's settings: the one model the configuration API validates with
and the demo adapter is built from."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ..settings import TypeSettings, http_url

__all__ = ["DemoSettings"]


class DemoSettings(TypeSettings):
    base_url: str | None = None  # where Open in CRM links point
    latency_ms: float = Field(default=0, ge=0, le=60_000)  # simulated CRM latency
    seed: Literal["sample", "empty"] = "sample"

    _base = field_validator("base_url")(http_url)
