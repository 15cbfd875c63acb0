"""HTML form fields ↔ endpoint fields, for the admin pages (blank means "not given")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from arena.admin import AdminError
from arena.admin.presets import Preset
from arena.store.tables import Endpoint

TEXT = ("name", "base_url", "model", "api_key_env", "system_prompt", "organization", "license")
NUMBERS = (
    "temperature",
    "top_p",
    "max_tokens",
    "weight",
    "input_price",
    "output_price",
    "daily_budget",
)


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def endpoint_fields(form: Mapping[str, Any], *, edit: bool) -> dict[str, Any]:
    """The endpoint fields a form sent. On an edit a blank field clears it; on an add it is left
    out, so the defaults and the preset apply."""
    out: dict[str, Any] = {}
    for key in TEXT + NUMBERS:
        value = _text(form, key)
        if value or edit:
            out[key] = value or None
    extra = _text(form, "extra_body")
    if extra:
        try:
            out["extra_body"] = json.loads(extra)
        except json.JSONDecodeError:
            raise AdminError(
                422, 'extra_body: not valid JSON; write an object such as {"enable_thinking": true}'
            ) from None
        if not isinstance(out["extra_body"], dict):
            raise AdminError(422, 'extra_body: must be a JSON object such as {"top_k": 20}')
    elif edit:
        out["extra_body"] = {}
    aliases = [a.strip() for a in _text(form, "aliases").split(",") if a.strip()]
    if aliases or edit:
        out["aliases"] = aliases
    out["enabled"] = form.get("enabled") in ("on", "true", "1")
    # Unticked on an add: absent, so a vision preset's default applies.
    if form.get("vision") in ("on", "true", "1"):
        out["vision"] = True
    elif edit:
        out["vision"] = False
    if edit or form.get("judge"):  # an unticked box sends nothing: on an edit that means off
        out["judge"] = form.get("judge") in ("on", "true", "1")
    if edit:
        out.pop("name", None)
        key = _text(form, "api_key")
        if key:
            out["api_key"] = key
        elif form.get("clear_api_key") in ("on", "true", "1"):
            out["api_key"] = None
        return out
    for key in ("preset", "api_key"):
        if _text(form, key):
            out[key] = _text(form, key)
    thinking = _text(form, "thinking")
    if thinking in ("on", "off"):
        out["thinking"] = thinking == "on"
    return out


def form_values(form: Mapping[str, Any]) -> dict[str, str]:
    """What the form showed, to show it again with an error (never the typed key)."""
    return {
        k: v for k, v in form.items() if isinstance(v, str) and k not in ("api_key", "csrf_token")
    }


def endpoint_values(endpoint: Endpoint) -> dict[str, str]:
    """An endpoint's fields as form values."""
    values = {
        k: "" if getattr(endpoint, k) is None else str(getattr(endpoint, k)) for k in TEXT + NUMBERS
    }
    values["extra_body"] = json.dumps(endpoint.extra_body) if endpoint.extra_body else ""
    values["aliases"] = ", ".join(endpoint.aliases or [])
    values["enabled"] = "on" if endpoint.enabled else ""
    values["vision"] = "on" if endpoint.vision else ""
    values["judge"] = "on" if endpoint.judge else ""
    return values


def preset_values(preset: Preset, values: Mapping[str, str]) -> dict[str, str]:
    """Form values with a preset's base URL, key variable, organization and extra_body filled in."""
    out = dict(values)
    out["preset"] = preset.key
    out["base_url"] = preset.base_url
    out["api_key_env"] = preset.api_key_env or ""
    if preset.organization and not out.get("organization"):
        out["organization"] = preset.organization
    if preset.extra_body:
        out["extra_body"] = json.dumps(preset.extra_body)
    if preset.vision:
        out["vision"] = "on"
    return out
