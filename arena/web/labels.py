"""Names for people of the values the pages show: categories (in the page's language)."""

from __future__ import annotations

from arena.web.i18n import N_, gettext

CATEGORY_NAMES = {
    "english": N_("English"),
    "chinese": N_("Chinese"),
    "japanese": N_("Japanese"),
    "korean": N_("Korean"),
    "russian": N_("Russian"),
    "other-language": N_("Other languages"),
    "code": N_("Code"),
    "math": N_("Math"),
    "hard-prompts": N_("Hard prompts"),
    "creative-writing": N_("Creative writing"),
    "instruction-following": N_("Instruction following"),
    "long": N_("Long prompts"),
    "multi-turn": N_("Multi-turn"),
}


def category_name(category: str) -> str:
    """A category as the leaderboard names it (a category without a name here: its key, tidied)."""
    name = CATEGORY_NAMES.get(category)
    return gettext(name) if name else category.replace("-", " ").capitalize()
