"""What an admin's input becomes: endpoint fields validated whole, or a 422 a person can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from arena.admin import AdminError
from arena.admin.describe import EDITABLE
from arena.admin.presets import apply_preset
from arena.core.rules import EndpointRules
from arena.store.endpoint_models import EndpointCreate, EndpointUpdate, rules_context
from arena.store.endpoint_urls import origin
from arena.store.tables import Endpoint


def validation_message(exc: ValidationError) -> str:
    """A pydantic error in one line, field by field: `weight: Input should be …`."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


def _optional(raw: Mapping[str, Any], key: str, kind: type) -> Any:
    value = raw.get(key)
    if value is not None and not isinstance(value, kind):
        raise AdminError(422, f"{key}: must be a {kind.__name__}")
    return value


def parse_new(
    raw: Mapping[str, Any], rules: EndpointRules | None = None
) -> tuple[EndpointCreate, str | None]:
    """A new endpoint from a request's fields (+ `preset`, `thinking`, `api_key`), validated."""
    if not isinstance(raw, Mapping):
        raise AdminError(422, "the body must be a JSON object of endpoint fields")
    fields = dict(raw)
    preset = _optional(fields, "preset", str)
    thinking = _optional(fields, "thinking", bool)
    api_key = (_optional(fields, "api_key", str) or "").strip() or None
    for key in ("preset", "thinking", "api_key"):
        fields.pop(key, None)
    fields = apply_preset(fields, preset or None, thinking=thinking, typed_key=api_key is not None)
    try:
        return EndpointCreate.model_validate(fields, context=rules_context(rules)), api_key
    except ValidationError as exc:
        raise AdminError(422, validation_message(exc)) from None


def parse_edit(
    endpoint: Endpoint, raw: Mapping[str, Any], rules: EndpointRules | None = None
) -> tuple[EndpointCreate, bool | None, str | None, bool]:
    """A partial edit merged into the endpoint and validated as a whole.

    Returns (fields, retired, new api key, clear the stored key). `"api_key": null` or `""`
    clears a stored key; a string replaces it. Moving a stored key to another host needs it
    typed again (see `check_key_follows_host`).
    """
    if not isinstance(raw, Mapping):
        raise AdminError(422, "the body must be a JSON object of the fields to change")
    fields = dict(raw)
    if "name" in fields and fields.pop("name") != endpoint.name:
        raise AdminError(
            422,
            "name: a model cannot be renamed (its name is its identity on the "
            "leaderboard); add a new model and retire this one",
        )
    clear_key, api_key = False, None
    if "api_key" in fields:
        api_key = (_optional(fields, "api_key", str) or "").strip() or None
        clear_key = api_key is None
        del fields["api_key"]
    try:
        context = rules_context(rules)
        patch = EndpointUpdate.model_validate(fields, context=context)
        changes = patch.model_dump(exclude_unset=True)
        retired = changes.pop("retired", None)
        current = {k: getattr(endpoint, k) for k in EDITABLE}
        item = EndpointCreate.model_validate({**current, **changes}, context=context)
    except ValidationError as exc:
        raise AdminError(422, validation_message(exc)) from None
    check_key_follows_host(endpoint, item.base_url, retyped="api_key" in raw)
    return item, retired, api_key, clear_key


def check_key_follows_host(endpoint: Endpoint, base_url: str, *, retyped: bool) -> None:
    """422 when a stored key would be sent to another host without being typed again.

    Whoever can edit base_url could otherwise point it at their own server and collect the key
    that was typed for the old host; a new key (or clearing the old one) is a deliberate act.
    """
    if not endpoint.api_key_encrypted or retyped:
        return
    old, new = origin(endpoint.base_url), origin(base_url)
    if old != new:
        raise AdminError(
            422,
            f"api_key: base_url now points at another host ({_where(new)} instead of "
            f"{_where(old)}); the stored API key is not sent to a new host. Type the key "
            'again, or clear it ("api_key": null, or "forget the typed key").',
        )


def _where(o: tuple[str, str, int | None]) -> str:
    return f"{o[0]}://{o[1]}:{o[2]}"
