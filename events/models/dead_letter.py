"""Dead letters: payloads that failed validation, with the reason, published to `<topic>.dlq`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from events.models.fields import SCHEMA_VERSION


class DeadLetter(BaseModel):
    """A payload that failed validation, with the reason; published to `<topic>.dlq`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: Literal["dead_letter"] = "dead_letter"
    schema_version: Literal[1] = SCHEMA_VERSION
    topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    error: str = Field(description="error class: invalid_json, invalid_field, unknown_event_type, ...")
    field: str | None = Field(default=None, description="dotted path of the offending field, when known")
    reason: str
    payload: str = Field(description="the original payload (utf-8, or base64 prefixed with 'b64:')")
