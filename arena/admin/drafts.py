"""Testing an endpoint before it is saved, and the guards every connection test goes through.

A draft is the add or edit form's values, validated like a save but never stored. Because a draft
can name any host, it could be used to scan the server's network: on a host that no saved
endpoint uses, every failure (refused, closed, timed out, an HTTP error) gets one neutral answer
after the same wait, so the result says nothing about which ports are open. On a host a saved
endpoint already uses the full diagnosis is shown, as the saved model's own test would.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from sqlmodel import Session, select

from arena.admin import crud, parsing
from arena.admin.testing import KeyInfo, ProbeResult, probe_endpoint
from arena.core.rules import EndpointRules, Timeouts
from arena.store.endpoint_models import EndpointCreate
from arena.store.endpoint_urls import host_address, link_local, origin
from arena.store.tables import Endpoint
from arena.upstream.client import CallParams

DRAFT_NAME = "draft"
NEUTRAL_MESSAGE = "No usable answer from {host}."
NEUTRAL_HINT = (
    "Before a model is saved, a test on a host that no saved model uses gives this one answer "
    "for every failure (refused, closed, timed out or an error), so it cannot be used to probe "
    "the server's network. Check the base URL, the model id and the key; or save the model and "
    "test it from its page for the full diagnosis."
)


async def resolves_link_local(base_url: str) -> bool:
    """Whether the URL's host is, or resolves to, a link-local or metadata address."""
    parsed = urlparse(base_url)
    host = parsed.hostname or ""
    if link_local(host_address(host)):
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False  # unresolvable: the probe itself reports it
    return any(link_local(host_address(str(info[4][0]))) for info in infos)


def link_local_refusal(params: CallParams) -> ProbeResult:
    """The answer when a test would reach a link-local or metadata address."""
    host = urlparse(params.base_url).hostname or params.base_url
    return ProbeResult(
        ok=False,
        model=params.model,
        base_url=params.base_url,
        error="refused",
        message=f"Not sent: {host} resolves to a link-local or cloud-metadata address.",
        hint="Such addresses can hand out the server's own credentials; set "
        "allow_link_local_upstreams if this upstream really lives there.",
    )


async def guarded_probe(
    params: CallParams,
    timeouts: Timeouts,
    *,
    key: KeyInfo,
    rules: EndpointRules,
    image: bool = False,
) -> ProbeResult:
    """The connection test, refused (nothing sent) when the host resolves to a link-local one."""
    if not rules.allow_link_local_upstreams and await resolves_link_local(params.base_url):
        return link_local_refusal(params)
    return await probe_endpoint(params, timeouts, key=key, image=image)


def known_origins(session: Session) -> set[tuple[str, str, int | None]]:
    """Where the saved endpoints (any state) send their requests."""
    return {origin(url) for url in session.exec(select(Endpoint.base_url)).all()}


def draft_fields(
    session: Session, raw: Mapping[str, Any], rules: EndpointRules, *, name: str | None
) -> tuple[EndpointCreate, str | None, Endpoint | None]:
    """The draft validated as its save would be: (fields, typed key, the saved endpoint)."""
    if name is None:
        fields = dict(raw)
        fields["name"] = str(fields.get("name") or "").strip() or DRAFT_NAME
        item, api_key = parsing.parse_new(fields, rules)
        return item, api_key, None
    endpoint = crud.find(session, name=name)
    item, _, api_key, clear_key = parsing.parse_edit(endpoint, raw, rules)
    # Cleared: the draft is tested as it would be saved, without the stored key.
    return item, api_key, None if clear_key else endpoint


def draft_call(
    item: EndpointCreate, typed: str | None, stored: str | None
) -> tuple[CallParams, KeyInfo]:
    """How to call a draft: the env var, else the typed (or still-stored) key, else none."""
    env = item.api_key_env
    env_value = os.environ.get(env) if env else None
    key = typed or stored
    params = CallParams(
        base_url=item.base_url,
        model=item.model,
        api_key=env_value or key or "sk-no-key",
        temperature=item.temperature,
        top_p=item.top_p,
        max_tokens=item.max_tokens,
        system_prompt=item.system_prompt,
        extra_body=dict(item.extra_body or {}),
    )
    return params, KeyInfo(env=env, env_set=bool(env_value), stored=key is not None)


async def neutral_probe(
    params: CallParams,
    timeouts: Timeouts,
    *,
    key: KeyInfo,
    rules: EndpointRules,
    image: bool = False,
) -> ProbeResult:
    """A test on an unknown host: the answer when one comes, else one neutral failure.

    A failure is held back until connect + first-token timeouts have passed since the start, the
    longest a closed, refused or silent port can take to fail, so the wait tells nothing either.
    """
    started = time.monotonic()
    result = await guarded_probe(params, timeouts, key=key, rules=rules, image=image)
    if result.ok or result.error == "refused":
        return result
    wait = timeouts.connect + timeouts.first_token - (time.monotonic() - started)
    if wait > 0:
        await asyncio.sleep(wait)
    host = urlparse(params.base_url).netloc or params.base_url
    return ProbeResult(
        ok=False,
        model=params.model,
        base_url=params.base_url,
        error="no_answer",
        message=NEUTRAL_MESSAGE.format(host=host),
        hint=NEUTRAL_HINT,
    )


__all__ = [
    "draft_call",
    "draft_fields",
    "guarded_probe",
    "known_origins",
    "link_local_refusal",
    "neutral_probe",
    "resolves_link_local",
]
