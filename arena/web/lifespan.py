"""What the app does when a worker starts and stops: migrate and seed the database, build the
parts every request uses (`ArenaState`), run the leaderboard refresher, and shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

from fastapi import FastAPI

from arena.admin.auth import AdminSessions, configured_token
from arena.admin.tokens import record_env_token
from arena.battles.runner import TurnRunner
from arena.battles.service import BattleService
from arena.battles.starter import BattleStarter
from arena.core import logs
from arena.core.settings import Settings
from arena.core.signing import VoterSigner
from arena.judges.calls import Callers
from arena.judges.worker import JudgeWorker
from arena.matchmaking.checks import check_weights
from arena.matchmaking.pairing import PairingCache
from arena.store.endpoints import read_models_file, seed_endpoints
from arena.store.engine import make_engine, migrate, startup_lock
from arena.store.images import purge_periodically
from arena.store.keys import KeyCipher, make_decrypt
from arena.store.secret import shared_secret
from arena.upstream.moderation import Moderator
from arena.votes.board_jobs import BoardJobs
from arena.votes.board_options import ranking_config
from arena.votes.board_refresh import refresher as leaderboard_refresher
from arena.votes.cache import VoteCache
from arena.votes.tagger_start import start_tagger
from arena.web import requestid, templating
from arena.web.assets import WEB
from arena.web.metrics import serve_separately
from arena.web.money import format_money, format_seconds
from arena.web.state import AdminKeys, ArenaState

log = logging.getLogger("arena")


def lifespan_for(settings: Settings) -> object:
    """The lifespan of an app with these settings."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.log_format == "json":
            # Whatever started the app (`arena serve` did this already, `uvicorn arena.asgi:app`
            # did not): JSON lines from here on, at the level the server was given.
            logs.configure("json", logging.getLogger("uvicorn.error").getEffectiveLevel())
        engine = make_engine(settings.database_url)
        migrate(engine)
        # Workers starting at once on an empty database take turns to seed it.
        with startup_lock(engine):
            added = seed_endpoints(
                engine, read_models_file(settings.models, settings.endpoint_rules)
            )
            secret = shared_secret(engine, settings)
            record_env_token(engine, configured_token(settings))
        if added:
            log.info("added models from %s: %s", settings.models, ", ".join(added))
        for warning in check_weights(engine):
            log.warning(warning)
        moderator = Moderator(settings.moderation) if settings.moderation_enabled else None
        runner = TurnRunner(
            engine, settings.generation, decrypt=make_decrypt(secret), moderator=moderator
        )
        pairing = PairingCache()
        starter = BattleStarter(
            engine, runner, limits=settings.limits, sampling=settings.sampling, pairing=pairing
        )
        token = configured_token(settings)
        templates = templating.templates(str(WEB / "templates"))
        templates.env.globals["currency"] = settings.currency
        templates.env.globals["money"] = partial(format_money, currency=settings.currency)
        templates.env.globals["seconds"] = format_seconds
        templates.env.globals["request_id"] = requestid.current  # error pages quote it
        vote_cache = VoteCache()
        ranking = ranking_config(settings)
        state = ArenaState(
            settings=settings,
            engine=engine,
            templates=templates,
            signer=VoterSigner(secret, settings.voter_cookie_days),
            admin=AdminKeys(
                sessions=AdminSessions(secret, token) if token else None,
                cipher=KeyCipher(secret),
                can_store=settings.secret_key is not None,
            ),
            runner=runner,
            starter=starter,
            battles=BattleService(settings.battle_rules, engine, runner, starter, moderator),
            moderator=moderator,
            pairing=pairing,
            vote_cache=vote_cache,
            ranking=ranking,
            boards=BoardJobs(engine, ranking, vote_cache),
        )
        app.state.arena = state
        metrics_server = (
            serve_separately(engine, settings.metrics_address) if settings.metrics_address else None
        )
        refresher = asyncio.create_task(
            leaderboard_refresher(
                engine, state.ranking, settings.leaderboard_refresh_seconds, state.vote_cache
            )
        )
        tagger = start_tagger(engine, settings, make_decrypt(secret))
        retention = None
        if settings.image_retention_days:
            retention = asyncio.create_task(
                purge_periodically(
                    engine,
                    older_than=timedelta(days=settings.image_retention_days),
                    every=86_400,
                )
            )
        judge = JudgeWorker(
            engine,
            settings.judging,
            Callers(
                settings.timeouts,
                default_max_tokens=settings.default_max_tokens,
                decrypt=make_decrypt(secret),
                max_chars=settings.max_answer_chars,
            ),
            breaker_failures=settings.breaker_failures,
            breaker_pause=settings.generation.breaker_pause,
        )
        judging = asyncio.create_task(judge.forever())
        try:
            # What was built so far lives as long as the process: keep it out of the
            # collector's full passes, which otherwise walk all of it in the middle of requests.
            gc.collect()
            gc.freeze()
            yield
        finally:
            refresher.cancel()
            if tagger is not None:
                await tagger.stop()
            if retention is not None:
                retention.cancel()
            judging.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await judging
            await state.boards.close()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
            await starter.shutdown()
            await runner.shutdown()
            if moderator is not None:
                await moderator.close()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            engine.dispose()
            gc.unfreeze()  # what this app held may now be collected (tests run many in one process)

    return lifespan
