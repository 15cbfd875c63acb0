"""htmx and its SSE extension: pinned CDN URLs with SRI hashes, or a local copy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.core.resources import web_dir

# web/ in a checkout, the installed package's copy otherwise (arena/core/resources.py).
WEB = web_dir()
VENDOR = WEB / "static" / "vendor"


@dataclass(frozen=True)
class Script:
    """A pinned third-party script."""

    package: str
    version: str
    path: str  # inside the npm package
    integrity: str
    local_name: str

    @property
    def cdn_url(self) -> str:
        """The pinned CDN address."""
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{self.path}"


HTMX = Script(
    "htmx.org",
    "2.0.11",
    "dist/htmx.min.js",
    "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg",
    "htmx.min.js",
)
HTMX_SSE = Script(
    "htmx-ext-sse",
    "2.2.4",
    "dist/sse.min.js",
    "sha384-A986SAtodyH8eg8x8irJnYUk7i9inVQqYigD6qZ9evobksGNIXfeFvDwLSHcp31N",
    "sse.min.js",
)
SCRIPTS = (HTMX, HTMX_SSE)


def local_available(vendor: Path = VENDOR) -> bool:
    """Whether every pinned script has a local copy."""
    return all((vendor / s.local_name).is_file() for s in SCRIPTS)


def script_tags(source: str, vendor: Path = VENDOR) -> list[dict[str, str]]:
    """`src`/`integrity` pairs for the page, from the CDN or the local copy."""
    use_local = source == "local" or (source == "auto" and local_available(vendor))
    return [
        {"src": f"/static/vendor/{s.local_name}?v={s.version}", "integrity": s.integrity}
        if use_local
        else {"src": s.cdn_url, "integrity": s.integrity}
        for s in SCRIPTS
    ]


def verify(vendor: Path = VENDOR) -> list[str]:
    """Names of local copies whose content does not match their pinned SRI hash."""
    import base64
    import hashlib

    bad = []
    for s in SCRIPTS:
        path = vendor / s.local_name
        digest = hashlib.sha384(path.read_bytes()).digest() if path.is_file() else b""
        if "sha384-" + base64.b64encode(digest).decode() != s.integrity:
            bad.append(s.local_name)
    return bad


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["specs"]:
        for s in SCRIPTS:
            print(s.package, s.version, s.path, s.local_name)
    elif sys.argv[1:] == ["verify"]:
        mismatched = verify()
        for name in mismatched:
            print(f"{name}: missing or does not match its pinned SRI hash", file=sys.stderr)
        sys.exit(1 if mismatched else 0)
