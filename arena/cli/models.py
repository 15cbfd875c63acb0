"""`arena models …`: the admin's work on model endpoints from a terminal, on the same database.

The commands call the same functions as the admin API and pages (`arena.admin.*`), so a model
added, edited or tested here behaves exactly as one handled in the browser. Each command imports
the admin, the store and the upstream client when it runs, so that building the parser (every
`arena …`, `--help` included) loads none of them.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from arena.cli.common import Handler, admin_command, cipher_for, database


def _list(args: argparse.Namespace) -> int:
    from arena.admin import service
    from arena.core.settings import load_settings

    settings = load_settings()
    with database(settings, read_only=True) as engine:
        cipher = cipher_for(engine, settings)
        items = [m.model_dump() for m in service.list_models(engine, cipher)]
    if args.json:
        print(json.dumps(items, indent=2, default=str))
        return 0
    if not items:
        print("no models; add one with `arena models add` or in configs/models.toml")
        return 0
    width = max(len(i["name"]) for i in items)
    for i in items:
        state = i["state"]
        if i["breaker"]["paused"]:
            state += f" until {i['breaker']['paused_until']}"
        key = i["api_key"]
        key_text = (
            f"${key['env']}{'' if key['env_set'] else ' (unset)'}"
            if key["env"]
            else ("typed key" if key["stored"] else "no key")
        )
        print(
            f"{i['name']:<{width}}  {state:<9} w={i['weight']:<5g} {i['model']} @ {i['base_url']}"
            f"  [{key_text}]" + ("  vision" if i.get("vision") else "")
        )
    return 0


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The endpoint fields given on the command line (unset options are left out)."""
    from arena.admin import AdminError
    from arena.admin.describe import EDITABLE

    fields: dict[str, Any] = {
        k: v
        for k, v in vars(args).items()
        if k in EDITABLE and k not in ("extra_body", "aliases") and v is not None
    }
    if getattr(args, "extra_body", None):
        try:
            fields["extra_body"] = json.loads(args.extra_body)
        except json.JSONDecodeError as exc:
            raise AdminError(422, f"--extra-body: not valid JSON ({exc})") from None
    if getattr(args, "aliases", None) is not None:
        fields["aliases"] = [a.strip() for a in args.aliases.split(",") if a.strip()]
    return fields


@admin_command
def _add(args: argparse.Namespace) -> int:
    from arena.admin import service
    from arena.core.settings import load_settings

    fields = _fields(args)
    if args.preset:
        fields["preset"] = args.preset
    if args.thinking:
        fields["thinking"] = args.thinking == "on"
    settings = load_settings()
    with database(settings) as engine:
        added = service.add_model(
            engine, fields, service.Ciphers(None), source="cli", rules=settings.endpoint_rules
        )
    print(f"added {added.name} ({added.model} @ {added.base_url})")
    return 0


@admin_command
def _edit(args: argparse.Namespace) -> int:
    from arena.admin import AdminError, service
    from arena.core.settings import load_settings

    fields = _fields(args)
    fields.pop("name", None)
    if not fields:
        raise AdminError(422, "nothing to change: give at least one option, e.g. --weight 2")
    settings = load_settings()
    with database(settings) as engine:
        service.edit_model(
            engine, args.name, fields, service.Ciphers(None), settings.endpoint_rules
        )
    print(f"updated {args.name}: {', '.join(sorted(fields))}")
    return 0


# The one-word changes: `arena models <command> NAME` prints "<done> NAME".
_CHANGES = {
    "enable": "enabled",
    "disable": "disabled",
    "unpause": "unpaused",
    "restore": "restored",
}


def _simple(command: str) -> Handler:
    @admin_command
    def run(args: argparse.Namespace) -> int:
        from arena.admin import service

        with database() as engine:
            service.act(engine, args.name, command)
        print(f"{_CHANGES[command]} {args.name}")
        return 0

    return run


@admin_command
def _retire(args: argparse.Namespace) -> int:
    from arena.admin import service

    with database() as engine:
        if args.delete:
            result = service.remove_model(engine, args.name).result
        else:
            service.act(engine, args.name, "retire")
            result = "retired"
    print(
        f"{result} {args.name}"
        + (" (its battles and votes are kept)" if result == "retired" else "")
    )
    return 0


@admin_command
def _test(args: argparse.Namespace) -> int:
    import asyncio

    from arena.admin import service
    from arena.admin.testing import probe_timeouts
    from arena.core.settings import load_settings

    settings = load_settings()
    with database(settings, read_only=True) as engine:
        cipher = cipher_for(engine, settings)
        result = asyncio.run(
            service.test_model(engine, args.name, cipher, probe_timeouts(settings))
        )
    if args.json:
        print(json.dumps({"name": args.name, **result.public()}, indent=2))
        return 0 if result.ok else 1
    if result.ok:
        speed = "speed unknown"
        if result.tokens_per_second:
            estimated = " (estimated)" if result.tokens_estimated else ""
            speed = f"{result.tokens_per_second} tokens/s{estimated}"
        print(f"{args.name}: ok — first token after {result.ttft_ms:.0f} ms, {speed}")
        if result.reasoning:
            print(f"reasoning: {result.reasoning}")
        print(result.answer)
        return 0
    print(f"{args.name}: FAILED — {result.message}")
    print(f"what to do: {result.hint}")
    if result.detail:
        print(f"the server said: {result.detail}")
    return 1


def _presets(args: argparse.Namespace) -> int:
    from arena.admin.presets import PRESETS

    for p in PRESETS.values():
        print(f"{p.key:<22} {p.base_url}")
        print(f"{'':<22} {p.label}. {p.hint}")
    return 0


def _endpoint_options(p: argparse.ArgumentParser, *, adding: bool) -> None:
    p.add_argument("--base-url", dest="base_url", required=False)
    p.add_argument("--model", help="the upstream model id")
    p.add_argument("--api-key-env", dest="api_key_env", help="NAME of the env var with the key")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", dest="top_p", type=float)
    p.add_argument("--max-tokens", dest="max_tokens", type=int)
    p.add_argument("--system-prompt", dest="system_prompt")
    p.add_argument("--extra-body", dest="extra_body", help="JSON object passed through")
    p.add_argument("--weight", type=float, help="sampling weight (0 = never drawn)")
    p.add_argument("--organization")
    p.add_argument("--license")
    p.add_argument("--aliases", help="comma-separated names to look for in answers")
    p.add_argument(
        "--input-price", dest="input_price", type=float, help="per million prompt tokens"
    )
    p.add_argument(
        "--output-price", dest="output_price", type=float, help="per million answer tokens"
    )
    p.add_argument(
        "--daily-budget", dest="daily_budget", type=float, help="spend per UTC day, then not drawn"
    )
    p.add_argument(
        "--vision",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the model takes images: drawn for prompts with images",
    )
    p.add_argument(
        "--judge",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="an LLM judge of finished battles (with --disabled: only a judge)",
    )
    if adding:
        # The parser needs the presets' keys for `choices`; presets.py is plain data (dataclasses
        # and the admin's error class), so this import costs the parser next to nothing.
        from arena.admin.presets import PRESETS

        p.add_argument("--disabled", dest="enabled", action="store_false", default=None)
        p.add_argument("--preset", choices=sorted(PRESETS), help="fill base URL and key variable")
        p.add_argument("--thinking", choices=["on", "off"], help="with a preset that can switch it")


def register(sub: Any) -> None:
    """Add `models` with its subcommands to the CLI."""
    models = sub.add_parser("models", help="manage model endpoints")
    msub = models.add_subparsers(dest="models_command", required=True)

    p = msub.add_parser("list", help="list model endpoints")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_list)

    p = msub.add_parser("add", help="add a model endpoint")
    p.add_argument("name")
    _endpoint_options(p, adding=True)
    p.set_defaults(func=_add)

    p = msub.add_parser(
        "edit", aliases=["set"], help="change a model endpoint's fields, e.g. --weight 2"
    )
    p.add_argument("name")
    _endpoint_options(p, adding=False)
    p.set_defaults(func=_edit)

    for command in _CHANGES:
        p = msub.add_parser(command, help=f"{command} a model endpoint")
        p.add_argument("name")
        p.set_defaults(func=_simple(command))

    p = msub.add_parser("retire", help="never draw a model again; its battles and votes stay")
    p.add_argument("name")
    p.add_argument("--delete", action="store_true", help="delete it instead if it has no battles")
    p.set_defaults(func=_retire)

    p = msub.add_parser("test", help="send a short prompt; show speed and answer, or the error")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_test)

    p = msub.add_parser("presets", help="list the provider presets for `add --preset`")
    p.set_defaults(func=_presets)
