"""Presets: the base URL, key variable and hints of common providers, applied to a new endpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from arena.admin import AdminError

MODEL_STUDIO_REGIONS = (
    "Model Studio keys work only in the region they were created in: Singapore → "
    "https://dashscope-intl.aliyuncs.com/compatible-mode/v1, Beijing → "
    "https://dashscope.aliyuncs.com/compatible-mode/v1, US (Virginia) → "
    "https://dashscope-us.aliyuncs.com/compatible-mode/v1."
)
MODEL_STUDIO_HINT = (
    "Model ids such as qwen-plus, qwen-flash, qwen3-max. Thinking is switched with extra_body "
    '{"enable_thinking": true} or false; the reasoning is shown apart from the answer. '
    + MODEL_STUDIO_REGIONS
)
LOCAL_HINT = (
    "A local server accepts any key unless it was started with one. `model` is the id the server "
    "lists at GET /v1/models."
)


@dataclass(frozen=True)
class Preset:
    """What a provider's endpoints have in common."""

    key: str
    label: str
    base_url: str
    api_key_env: str | None
    example_model: str
    hint: str
    organization: str | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    # How this provider switches thinking on and off, if it can.
    thinking: Literal["enable_thinking", "chat_template_kwargs"] | None = None
    # Its models take images (a new endpoint gets `vision = true` unless told otherwise).
    vision: bool = False

    def public(self) -> dict[str, Any]:
        """The preset as `GET /api/admin/presets` shows it."""
        return asdict(self)


def _model_studio(key: str, region: str, host: str) -> Preset:
    return Preset(
        key=key,
        label=f"Alibaba Cloud Model Studio — {region}",
        base_url=f"https://{host}/compatible-mode/v1",
        api_key_env="DASHSCOPE_API_KEY",
        example_model="qwen-plus",
        hint=MODEL_STUDIO_HINT,
        organization="Alibaba Cloud",
        thinking="enable_thinking",
    )


MODEL_STUDIO_VL_HINT = (
    "Vision models: qwen3-vl-plus and qwen3-vl-flash switch thinking with extra_body "
    '{"enable_thinking": true} or false; qwen-vl-max and qwen-vl-plus have no thinking switch '
    "(leave thinking unset). Images are sent as data: URIs. " + MODEL_STUDIO_REGIONS
)
LOCAL_VISION_HINT = (
    LOCAL_HINT + " The server must run a vision model with its image projector, or it answers "
    "image parts with an error: test the endpoint (the test sends a small image)."
)


def _model_studio_vl(key: str, region: str, host: str) -> Preset:
    return Preset(
        key=key,
        label=f"Alibaba Cloud Model Studio — {region}, vision (Qwen-VL)",
        base_url=f"https://{host}/compatible-mode/v1",
        api_key_env="DASHSCOPE_API_KEY",
        example_model="qwen3-vl-plus",
        hint=MODEL_STUDIO_VL_HINT,
        organization="Alibaba Cloud",
        thinking="enable_thinking",
        vision=True,
    )


VISION_PRESETS = (
    _model_studio_vl("modelstudio-vl-singapore", "Singapore", "dashscope-intl.aliyuncs.com"),
    _model_studio_vl("modelstudio-vl-beijing", "Beijing", "dashscope.aliyuncs.com"),
    _model_studio_vl("modelstudio-vl-us", "US (Virginia)", "dashscope-us.aliyuncs.com"),
    Preset(
        key="openai-vision",
        label="OpenAI, vision",
        base_url="https://api.openai.com/v1",
        api_key_env="OPENAI_API_KEY",
        example_model="gpt-4o",
        organization="OpenAI",
        hint="Models that take images, such as gpt-4o, gpt-4.1 or gpt-4.1-mini.",
        vision=True,
    ),
    Preset(
        key="vllm-vision",
        label="vLLM (local), vision",
        base_url="http://127.0.0.1:8001/v1",
        api_key_env=None,
        example_model="Qwen/Qwen2.5-VL-7B-Instruct",
        hint=LOCAL_VISION_HINT + " `vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8001 "
        "--limit-mm-per-prompt '{\"image\": 4}'` (port 8000 is the arena's).",
        vision=True,
    ),
    Preset(
        key="ollama-vision",
        label="Ollama (local), vision",
        base_url="http://127.0.0.1:11434/v1",
        api_key_env=None,
        example_model="qwen2.5vl:7b",
        hint=LOCAL_VISION_HINT + " Pull a vision model first (`ollama pull qwen2.5vl:7b`, "
        "`gemma3:4b` or `llama3.2-vision`).",
        vision=True,
    ),
    Preset(
        key="llamacpp-vision",
        label="llama.cpp server (local), vision",
        base_url="http://127.0.0.1:8080/v1",
        api_key_env=None,
        example_model="local-model",
        hint=LOCAL_VISION_HINT + " Start it with the model and its projector: "
        "`llama-server -m model.gguf --mmproj mmproj.gguf`.",
        vision=True,
    ),
)


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        _model_studio("modelstudio-singapore", "Singapore", "dashscope-intl.aliyuncs.com"),
        _model_studio("modelstudio-beijing", "Beijing", "dashscope.aliyuncs.com"),
        _model_studio("modelstudio-us", "US (Virginia)", "dashscope-us.aliyuncs.com"),
        Preset(
            key="openai",
            label="OpenAI",
            base_url="https://api.openai.com/v1",
            api_key_env="OPENAI_API_KEY",
            example_model="gpt-4.1-mini",
            organization="OpenAI",
            hint="Model ids such as gpt-4.1-mini or gpt-4o; the key comes from "
            "platform.openai.com.",
        ),
        Preset(
            key="vllm",
            label="vLLM (local)",
            base_url="http://127.0.0.1:8000/v1",
            api_key_env=None,
            example_model="Qwen/Qwen3-8B",
            thinking="chat_template_kwargs",
            hint=LOCAL_HINT + " vLLM listens on port 8000 by default, as the arena does: start "
            "one of them on another port (`vllm serve MODEL --port 8001`).",
        ),
        Preset(
            key="ollama",
            label="Ollama (local)",
            base_url="http://127.0.0.1:11434/v1",
            api_key_env=None,
            example_model="qwen3:8b",
            hint=LOCAL_HINT + " Pull the model first (`ollama pull qwen3:8b`).",
        ),
        Preset(
            key="llamacpp",
            label="llama.cpp server (local)",
            base_url="http://127.0.0.1:8080/v1",
            api_key_env=None,
            example_model="local-model",
            hint=LOCAL_HINT + " llama-server "
            "answers with whatever GGUF it was started with (`llama-server -m model.gguf`).",
        ),
        *VISION_PRESETS,
    )
}


def get_preset(key: str) -> Preset:
    """The preset with this key; 422 naming the known ones otherwise."""
    preset = PRESETS.get(key)
    if preset is None:
        raise AdminError(422, f"unknown preset {key!r}; known presets: {', '.join(PRESETS)}")
    return preset


def thinking_body(preset: Preset | None, thinking: bool) -> dict[str, Any]:
    """The extra_body entry that switches thinking on or off for this preset's provider."""
    if preset is None or preset.thinking is None:
        where = f"preset {preset.key!r}" if preset else "an endpoint without a preset"
        raise AdminError(
            422, f"thinking on/off is not known for {where}; set it in extra_body instead"
        )
    if preset.thinking == "enable_thinking":
        return {"enable_thinking": thinking}
    return {"chat_template_kwargs": {"enable_thinking": thinking}}


def apply_preset(
    raw: dict[str, Any], key: str | None, *, thinking: bool | None = None, typed_key: bool = False
) -> dict[str, Any]:
    """The endpoint fields with the preset's defaults filled in where the request left them out."""
    preset = get_preset(key) if key else None
    out = dict(raw)
    given = out.get("extra_body")
    if given is not None and not isinstance(given, dict):
        raise AdminError(422, 'extra_body: must be an object such as {"enable_thinking": true}')
    extra = dict(given or {})
    if preset is not None:
        out["base_url"] = out.get("base_url") or preset.base_url
        # A typed key stands on its own; otherwise the provider's usual variable is the default.
        if not out.get("api_key_env") and not typed_key:
            out["api_key_env"] = preset.api_key_env
        out["organization"] = out.get("organization") or preset.organization
        extra = {**preset.extra_body, **extra}
        if preset.vision and out.get("vision") is None:
            out["vision"] = True
    if thinking is not None:
        extra.update(thinking_body(preset, thinking))
    if extra or "extra_body" in out:
        out["extra_body"] = extra
    return out
