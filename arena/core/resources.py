"""The files the server reads at run time: web/ (templates, static files) and configs/ (examples).

An install carries them inside the package as `arena.assets` and `arena.examples` (setup.py maps
the repository's top-level folders to those names, and an editable install maps them back to the
folders); a checkout that was never installed reads the folders themselves.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
ASSETS, EXAMPLES = "arena.assets", "arena.examples"


def _folder(package: str, checkout_folder: str) -> Path:
    """The folder of a data package as a real path (StaticFiles and Jinja2 need one)."""
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError:
        return CHECKOUT / checkout_folder
    if isinstance(root, Path):
        return root
    # A package without __init__.py is a namespace package: its files() joins its folders
    # (one here); a child of it is a plain path, and so is that child's parent.
    for child in root.iterdir():
        if isinstance(child, Path):
            return child.parent
    raise RuntimeError(f"{package} is installed without any files")


def web_dir() -> Path:
    """The folder holding `templates/` and `static/`."""
    return _folder(ASSETS, "web")


def examples_dir() -> Path:
    """The folder holding the example `arena.toml` and `models.toml`."""
    return _folder(EXAMPLES, "configs")


def example_config(name: str) -> str:
    """The text of an example config file (`arena.toml` or `models.toml`)."""
    return (examples_dir() / name).read_text(encoding="utf-8")
