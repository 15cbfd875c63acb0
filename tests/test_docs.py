"""The documentation stays honest: every setting is documented, the README's commands exist."""

from __future__ import annotations

import re
from pathlib import Path

from arena.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE))
    assert documented == set(Settings.model_fields)


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for script in re.findall(r"bash (scripts/\w+\.sh)", readme):
        assert (ROOT / script).is_file(), script
    assert "bash scripts/run.sh" in readme and "bash scripts/test.sh" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci
