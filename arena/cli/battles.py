"""`arena battles export | import`: the arena's voted battles as battle files, and back.

The work is `arena.admin.battlefiles`, the same as the admin's export and import, imported when
a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from arena.cli.common import database, secret


def export(args: argparse.Namespace) -> int:
    """Write every voted battle as JSON Lines to --out or standard output."""
    from arena.admin.battlefiles import export_battles
    from arena.core.settings import load_settings

    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        settings = load_settings()
        with database(settings, read_only=True) as engine:
            # Voter ids are hashed with the server's secret, as in the admin's export.
            n = export_battles(engine, out, secret=secret(engine, settings), images=args.images)
    finally:
        if args.out:
            out.close()
    print(f"exported {n} battles" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def import_(args: argparse.Namespace) -> int:
    """Import a battle file; exit status 1 when any record was rejected."""
    from arena.admin.battlefiles import import_battles

    if not Path(args.file).is_file():
        raise ValueError(f"no such file: {args.file}")
    with database() as engine, _progress_bar(Path(args.file)) as progress:
        report = import_battles(engine, args.file, strict=args.strict, progress=progress)
    for no, reason in report.rejected:
        print(f"{args.file}:{no}: rejected: {reason}", file=sys.stderr)
    if args.strict and report.rejected:
        print("nothing imported (--strict and some records were rejected)", file=sys.stderr)
        return 1
    print(report.summary())
    return 1 if report.rejected else 0


#: Files at least this large get a progress bar on standard error (when it is a terminal).
PROGRESS_BYTES = 10 << 20


@contextlib.contextmanager
def _progress_bar(path: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress callback drawing a tqdm bar for a large file, or None for a small one."""
    size = path.stat().st_size
    if size < PROGRESS_BYTES or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=size, unit="B", unit_scale=True, desc="importing", file=sys.stderr) as bar:

        def update(read: int) -> None:
            # Characters read stand for bytes: exact for ASCII, close enough for a bar.
            bar.update(min(read, size) - bar.n)

        yield update


def register(sub: Any) -> None:
    """Add `battles export | import` to the CLI."""
    battles = sub.add_parser("battles", help="export or import battle files")
    bsub = battles.add_subparsers(dest="battles_command", required=True)
    p = bsub.add_parser("export", help="write every voted battle as JSON Lines")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.add_argument(
        "--images", action="store_true", help="carry vision battles' images as data: URIs"
    )
    p.set_defaults(func=export)
    p = bsub.add_parser("import", help="import a battle file (JSON Lines or a JSON array)")
    p.add_argument("file")
    p.add_argument("--strict", action="store_true", help="import nothing if any record is bad")
    p.set_defaults(func=import_)
