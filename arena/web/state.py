"""The running app's parts, built once when it starts: one typed object instead of a bag of
attributes on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from arena.admin.auth import AdminSessions
from arena.battles.runner import TurnRunner
from arena.battles.service import BattleService
from arena.battles.starter import BattleStarter
from arena.core.settings import Settings
from arena.core.signing import VoterSigner
from arena.matchmaking.pairing import PairingCache
from arena.store.keys import KeyCipher
from arena.upstream.moderation import Moderator
from arena.votes.board_jobs import BoardJobs
from arena.votes.board_options import RankingConfig
from arena.votes.cache import VoteCache


@dataclass(frozen=True)
class AdminKeys:
    """The admin's secrets, derived once from the arena's shared secret."""

    sessions: AdminSessions | None  # None when the admin is off
    cipher: KeyCipher  # reads stored API keys
    can_store: bool  # typed keys are stored only when ARENA_SECRET_KEY is set

    @property
    def store_cipher(self) -> KeyCipher | None:
        """The cipher for storing a typed key, or None when that is not allowed."""
        return self.cipher if self.can_store else None


@dataclass(frozen=True)
class ArenaState:
    """Everything the routes use, made in the lifespan from the settings."""

    settings: Settings
    engine: Engine
    templates: Jinja2Templates
    signer: VoterSigner
    admin: AdminKeys
    runner: TurnRunner
    starter: BattleStarter
    battles: BattleService
    moderator: Moderator | None
    pairing: PairingCache
    vote_cache: VoteCache
    ranking: RankingConfig
    boards: BoardJobs  # leaderboards never computed yet, computed off the request path


def arena_state(app: FastAPI) -> ArenaState:
    """The state of a started app."""
    state: ArenaState | None = getattr(app.state, "arena", None)
    if state is None:
        raise RuntimeError("the app has not started")
    return state
