"""Models of the parts of Ordoclic's API that are documented (authentication, professionals,
entities). The assumed parts (drugs, analysis, prescriptions) live in :mod:`contract`.

Like the contract models: camelCase on the wire, unknown fields ignored, the fields we use
validated strictly.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from ordoclic_client.contract import ApiModel


class Professional(ApiModel):
    """A health professional as Ordoclic knows them (identity of a token, validate, get)."""

    id: UUID
    rpps: str
    first_name: str = ""
    last_name: str = ""
    activated: bool

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        # Ordoclic's CLI README shows the call, not its answer: accept the professional either
        # bare or wrapped as {"professional": {...}}, as the auth identity carries it.
        if isinstance(data, dict) and isinstance(data.get("professional"), dict):
            return data["professional"]
        return data


class AuthIdentity(ApiModel):
    """Who a token acts for: one professional, for one partner, optionally in one entity."""

    professional: Professional
    partner_id: str = ""
    entity_id: str | None = None


class AuthResponse(ApiModel):
    """The answer of ``POST /v1/auth``."""

    token: str = Field(min_length=1)
    identity: AuthIdentity


class Entity(ApiModel):
    """A structure (``POST /v1/entities``)."""

    id: UUID
    name: str
    admins: list[UUID] = Field(default_factory=list)
    professionals: list[UUID] = Field(default_factory=list)
