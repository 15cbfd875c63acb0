"""`GET /api/categories`: the leaderboard's categories and how many battles each holds."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from arena.store.engine import in_thread
from arena.votes.category_counts import category_counts
from arena.web.openapi import COMMON, errors
from arena.web.state import arena_state

router = APIRouter()


class CategoryOut(BaseModel):
    """One category of the leaderboard (`?category=` takes its name)."""

    category: str
    battles: int = Field(description="Counted anonymous battles in it (before vote hygiene)")


class CategoriesOut(BaseModel):
    """Every category, in the order the leaderboard offers them."""

    total_battles: int = Field(description="Counted anonymous battles in all")
    categories: list[CategoryOut]


@router.get(
    "/api/categories",
    tags=["leaderboard"],
    response_model=CategoriesOut,
    responses=errors(*COMMON),
)
async def api_categories(request: Request) -> CategoriesOut:
    """The categories with their battle counts."""
    counts = await in_thread(category_counts, arena_state(request.app).engine)
    return CategoriesOut.model_validate(counts)
