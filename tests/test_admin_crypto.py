"""Stored API keys: encryption with the arena's secret, masking, and the rule battles use."""

from __future__ import annotations

import pytest

from arena.admin import AdminError
from arena.admin.forms import endpoint_fields
from arena.admin.presets import PRESETS, apply_preset
from arena.store.endpoints import resolve_api_key
from arena.store.keys import (
    KeyCipher,
    KeyDecryptError,
    derive_fernet_key,
    make_decrypt,
    mask,
    redact,
)
from arena.store.tables import Endpoint

SECRET = "test-secret-key-0123456789abcdef0123"
KEY = "sk-test-SECRET-123456"


def test_keys_round_trip_and_are_not_readable_without_the_secret() -> None:
    cipher = KeyCipher(SECRET)
    token = cipher.encrypt(KEY)
    assert KEY not in token and token != cipher.encrypt(KEY)  # a fresh IV each time
    assert cipher.decrypt(token) == KEY
    with pytest.raises(KeyDecryptError, match="ARENA_SECRET_KEY"):
        KeyCipher("another-secret-key-0123456789abcdef").decrypt(token)
    with pytest.raises(KeyDecryptError):
        cipher.decrypt("not a token")
    # The key is derived (HKDF-SHA256), not the secret itself.
    assert SECRET.encode() not in derive_fernet_key(SECRET)
    assert derive_fernet_key(SECRET) == derive_fernet_key(SECRET)


def test_the_decrypt_for_battles_follows_the_key_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    decrypt = make_decrypt(SECRET)
    endpoint = Endpoint(
        name="x",
        base_url="http://h/v1",
        model="m",
        api_key_encrypted=KeyCipher(SECRET).encrypt(KEY),
    )
    assert resolve_api_key(endpoint, decrypt) == KEY
    # A named environment variable that is set wins over a typed key.
    monkeypatch.setenv("TEST_KEY_VAR_API_KEY", "sk-from-env")
    endpoint.api_key_env = "TEST_KEY_VAR_API_KEY"
    assert resolve_api_key(endpoint, decrypt) == "sk-from-env"
    monkeypatch.delenv("TEST_KEY_VAR_API_KEY")
    assert resolve_api_key(endpoint, decrypt) == KEY
    # A key the secret cannot read is sent as "" (refused upstream), never an exception.
    assert (
        make_decrypt("another-secret-key-0123456789abcdef")(endpoint.api_key_encrypted or "") == ""
    )


def test_masking_and_redaction() -> None:
    assert mask(KEY) == "••••3456" and mask("short") == "••••"
    assert redact(f"bad key {KEY}!", [KEY, ""]) == "bad key ••••3456!"
    assert redact("nothing here", [KEY]) == "nothing here"


def test_presets_fill_only_what_is_missing() -> None:
    filled = apply_preset(
        {"name": "q", "model": "qwen-plus"}, "modelstudio-beijing", thinking=False
    )
    assert filled["base_url"] == PRESETS["modelstudio-beijing"].base_url
    assert filled["api_key_env"] == "DASHSCOPE_API_KEY"
    assert filled["extra_body"] == {"enable_thinking": False}
    typed = apply_preset({"name": "q", "model": "m"}, "openai", typed_key=True)
    assert typed.get("api_key_env") is None  # a typed key is not shadowed by $OPENAI_API_KEY
    kept = apply_preset(
        {"base_url": "http://10.0.0.2:8000/v1", "extra_body": {"a": 1}}, "vllm", thinking=True
    )
    assert kept["base_url"] == "http://10.0.0.2:8000/v1"
    assert kept["extra_body"] == {"a": 1, "chat_template_kwargs": {"enable_thinking": True}}
    with pytest.raises(AdminError, match="unknown preset"):
        apply_preset({}, "nope")
    with pytest.raises(AdminError, match="thinking"):
        apply_preset({}, "openai", thinking=True)


def test_form_fields() -> None:
    form = {
        "name": " g ",
        "base_url": "http://h/v1",
        "model": "m",
        "weight": "",
        "enabled": "on",
        "aliases": "A, B,",
        "extra_body": "",
        "thinking": "off",
        "preset": "vllm",
    }
    assert endpoint_fields(form, edit=False) == {
        "name": "g",
        "base_url": "http://h/v1",
        "model": "m",
        "aliases": ["A", "B"],
        "enabled": True,
        "preset": "vllm",
        "thinking": False,
    }
    edited = endpoint_fields({"base_url": "http://h/v1", "model": "m", "weight": "2"}, edit=True)
    assert edited["enabled"] is False and edited["temperature"] is None
    assert edited["extra_body"] == {} and edited["aliases"] == [] and "api_key" not in edited
    assert endpoint_fields({"clear_api_key": "on"}, edit=True)["api_key"] is None
    with pytest.raises(AdminError, match="extra_body"):
        endpoint_fields({"extra_body": "[1]"}, edit=False)
