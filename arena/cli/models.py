"""`arena models …` and `arena votes …`: the admin's work from a terminal, on the same database.

The commands call the same functions as the admin API and pages (`arena.admin.*`), so a model
added, edited or tested here behaves exactly as one handled in the browser.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from arena.admin import AdminError, crud, review
from arena.admin.presets import PRESETS
from arena.admin.testing import probe_endpoint, probe_params, probe_timeouts
from arena.core.settings import Settings, load_settings
from arena.store.engine import make_engine, migrate, session_scope
from arena.store.keys import KeyCipher

Handler = Callable[[argparse.Namespace], int]


def open_db(settings: Settings | None = None) -> Engine:
    """The arena's database, migrated to the current schema (the caller disposes of it)."""
    engine = make_engine((settings or load_settings()).database_url)
    migrate(engine)
    return engine


@contextlib.contextmanager
def database(settings: Settings | None = None) -> Iterator[Engine]:
    """`open_db` for one command: the engine and its connections are closed afterwards."""
    engine = open_db(settings)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def transaction(settings: Settings | None = None) -> Iterator[Session]:
    """One short transaction on the arena's database."""
    with database(settings) as engine, session_scope(engine) as session:
        yield session


def cipher_for(engine: Engine, settings: Settings) -> KeyCipher | None:
    """The cipher of stored keys; None without a secret (production without ARENA_SECRET_KEY)."""
    from arena.store.secret import shared_secret

    try:
        return KeyCipher(shared_secret(engine, settings))
    except RuntimeError:
        return None


def admin_command(func: Handler) -> Handler:
    """Report an AdminError as `arena: error: …` with exit status 2, like other CLI errors."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except AdminError as exc:
            print(f"arena: error: {exc.detail}", file=sys.stderr)
            return 2

    return run


# --- models ---------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        cipher = cipher_for(engine, settings)
        counts = review.vote_counts(session)
        secrets = crud.all_keys(session, cipher)
        items = [
            crud.public(e, cipher=cipher, votes=counts.get(e.name), secrets=secrets)
            for e in crud.list_endpoints(session)
        ]
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
            f"  [{key_text}]"
        )
    return 0


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    """The endpoint fields given on the command line (unset options are left out)."""
    fields: dict[str, Any] = {
        k: v
        for k, v in vars(args).items()
        if k in crud.EDITABLE and k not in ("extra_body", "aliases") and v is not None
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
    fields = _fields(args)
    if args.preset:
        fields["preset"] = args.preset
    if args.thinking:
        fields["thinking"] = args.thinking == "on"
    item, _ = crud.parse_new(fields)
    with transaction() as session:
        crud.create(session, item=item, source="cli")
    print(f"added {item.name} ({item.model} @ {item.base_url})")
    return 0


@admin_command
def _edit(args: argparse.Namespace) -> int:
    fields = _fields(args)
    fields.pop("name", None)
    if not fields:
        raise AdminError(422, "nothing to change: give at least one option, e.g. --weight 2")
    with transaction() as session:
        endpoint = crud.find(session, name=args.name)
        item, retired, _, _ = crud.parse_edit(endpoint, fields)
        crud.update(session, endpoint=endpoint, item=item, retired=retired)
    print(f"updated {args.name}: {', '.join(sorted(fields))}")
    return 0


def _simple(action: Callable[..., Any], done: str) -> Handler:
    @admin_command
    def run(args: argparse.Namespace) -> int:
        with transaction() as session:
            action(session, name=args.name)
        print(f"{done} {args.name}")
        return 0

    return run


@admin_command
def _retire(args: argparse.Namespace) -> int:
    with transaction() as session:
        if args.delete:
            result = crud.remove(session, name=args.name)
        else:
            crud.set_retired(session, name=args.name, retired=True)
            result = "retired"
    print(
        f"{result} {args.name}"
        + (" (its battles and votes are kept)" if result == "retired" else "")
    )
    return 0


@admin_command
def _test(args: argparse.Namespace) -> int:
    settings = load_settings()
    with database(settings) as engine, session_scope(engine) as session:
        cipher = cipher_for(engine, settings)
        params, key = probe_params(crud.find(session, name=args.name), cipher)
    result = asyncio.run(probe_endpoint(params, probe_timeouts(settings), key=key))
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
    if adding:
        p.add_argument("--disabled", dest="enabled", action="store_false", default=None)
        p.add_argument("--preset", choices=sorted(PRESETS), help="fill base URL and key variable")
        p.add_argument("--thinking", choices=["on", "off"], help="with a preset that can switch it")


# --- votes ----------------------------------------------------------------------------------------


def _tristate(value: str | None) -> bool | None:
    return None if value in (None, "any") else value == "yes"


@admin_command
def _votes_list(args: argparse.Namespace) -> int:
    filters = review.VoteFilter(
        args.model,
        args.since,
        args.until,
        _tristate(args.flagged),
        _tristate(args.excluded),
        args.limit,
        0,
    )
    with transaction() as session:
        votes = review.list_votes(session, filters)
    for v in votes:
        marks = ("  [flagged]" if v.leaked else "") + (
            f"  [excluded: {v.exclude_reason}]" if v.excluded else ""
        )
        prompt = v.turns[0].prompt.replace("\n", " ")[:60] if v.turns else ""
        print(
            f"{v.battle_id}  {v.voted_at:%Y-%m-%d %H:%M}  {v.model_a} vs {v.model_b}: "
            f"{v.winner}{marks}  «{prompt}»"
        )
    if not votes:
        print("no votes match")
    return 0


def _set_excluded(excluded: bool) -> Handler:
    @admin_command
    def run(args: argparse.Namespace) -> int:
        with transaction() as session:
            review.set_excluded(
                session,
                battle_id=args.battle_id,
                excluded=excluded,
                reason=getattr(args, "reason", None),
                count_leaked=load_settings().count_leaked_votes,
            )
        print(f"{'excluded' if excluded else 'included'} the vote on {args.battle_id}")
        return 0

    return run


def register_votes(sub: Any) -> None:
    """Add `votes list | exclude | include` to the CLI."""
    votes = sub.add_parser("votes", help="review votes: list, exclude spam, include again")
    vsub = votes.add_subparsers(dest="votes_command", required=True)
    p = vsub.add_parser("list", help="recent votes, newest first")
    p.add_argument("--model")
    p.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    p.add_argument("--until", type=date.fromisoformat, help="last day, YYYY-MM-DD")
    p.add_argument("--flagged", choices=["yes", "no", "any"], help="a model's name leaked")
    p.add_argument("--excluded", choices=["yes", "no", "any"])
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_votes_list)
    p = vsub.add_parser("exclude", help="leave a vote out of the leaderboard")
    p.add_argument("battle_id")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=_set_excluded(True))
    p = vsub.add_parser("include", help="count an excluded vote again")
    p.add_argument("battle_id")
    p.set_defaults(func=_set_excluded(False))


def register(sub: Any) -> None:
    """Add `models` (and `votes`) with their subcommands to the CLI."""
    models = sub.add_parser("models", help="manage model endpoints")
    msub = models.add_subparsers(dest="models_command", required=True)

    p = msub.add_parser("list", help="list model endpoints")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_list)

    p = msub.add_parser("add", help="add a model endpoint")
    p.add_argument("name")
    _endpoint_options(p, adding=True)
    p.set_defaults(func=_add)

    p = msub.add_parser("edit", help="change a model endpoint's fields, e.g. --weight 2")
    p.add_argument("name")
    _endpoint_options(p, adding=False)
    p.set_defaults(func=_edit)

    for name, action, done in (
        ("enable", lambda s, name: crud.set_enabled(s, name=name, enabled=True), "enabled"),
        ("disable", lambda s, name: crud.set_enabled(s, name=name, enabled=False), "disabled"),
        ("unpause", crud.unpause, "unpaused"),
        ("restore", lambda s, name: crud.set_retired(s, name=name, retired=False), "restored"),
    ):
        p = msub.add_parser(name, help=f"{name} a model endpoint")
        p.add_argument("name")
        p.set_defaults(func=_simple(action, done))

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

    register_votes(sub)
