"""Where an endpoint may point: its base URL (never at a cloud metadata service unless allowed)
and the environment variable of its key (never one of the arena's own settings)."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlparse

from arena.core.rules import EndpointRules

# The arena's own settings live in ARENA_* variables: no endpoint may send one upstream.
RESERVED_ENV_PREFIX = "ARENA_"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Cloud metadata services: link-local addresses, the AWS IPv6 one, and the names that reach them.
METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254")}
METADATA_NAMES = {"metadata", "metadata.google.internal", "metadata.goog", "instance-data"}


def reserved_env(name: str | None) -> bool:
    """Whether an env var name is one of the arena's own (never sent upstream)."""
    return bool(name) and str(name).upper().startswith(RESERVED_ENV_PREFIX)


def check_key_env(value: str | None, rules: EndpointRules | None = None) -> str | None:
    """A variable name that may hold a model's key under the rules; ValueError otherwise."""
    if value is None:
        return None
    rules = rules or EndpointRules()
    if reserved_env(value):
        raise ValueError(
            f"{value} is one of the arena's own settings, not a model's API key; name the "
            "variable that holds the key, e.g. DASHSCOPE_API_KEY"
        )
    if not ENV_NAME.fullmatch(value) or not re.fullmatch(rules.api_key_env_pattern, value):
        raise ValueError(
            f"{value!r} is not a key variable: the name must match api_key_env_pattern "
            f"({rules.api_key_env_pattern}; by default it ends in _KEY or _TOKEN, e.g. "
            "OPENAI_API_KEY)"
        )
    return value


def host_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL's host spells, in any form a resolver accepts; None for a name."""
    bare = host.strip("[]").split("%")[0]
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        try:
            # Resolvers also take 2852039166, 0xa9fea9fe and 169.254.43518 as 169.254.169.254.
            ip = ipaddress.IPv4Address(socket.inet_aton(bare))
        except (OSError, ValueError):
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def link_local(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
    """Whether an address is link-local (169.254.0.0/16, fe80::/10) or a metadata service."""
    return address is not None and (address.is_link_local or address in METADATA_ADDRESSES)


def check_base_url(value: str, rules: EndpointRules | None = None) -> str:
    """An http(s) URL with a host, without its trailing slash; ValueError otherwise.

    Unless the rules allow it, a link-local or metadata host and `user:pass@` are refused.
    """
    parsed = urlparse(value.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value.strip():
        raise ValueError("base_url must be an http(s) URL such as https://host/v1")
    try:
        host, _ = parsed.hostname, parsed.port
    except ValueError:
        raise ValueError("base_url has an invalid port") from None
    if not host:
        raise ValueError("base_url must be an http(s) URL such as https://host/v1")
    if not (rules or EndpointRules()).allow_link_local_upstreams:
        if "@" in parsed.netloc:
            raise ValueError(
                "base_url must not carry user:pass@ credentials; put the key in api_key_env "
                "or type it as the API key"
            )
        if host.rstrip(".").lower() in METADATA_NAMES or link_local(host_address(host)):
            raise ValueError(
                f"base_url: {host} is a link-local or cloud-metadata address, which could "
                "leak the server's credentials; set allow_link_local_upstreams to use it"
            )
    return value.strip().rstrip("/")


def origin(base_url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of a URL (default ports filled in): where a key would be sent."""
    parsed = urlparse(base_url.strip())
    try:
        port = parsed.port
    except ValueError:
        port = None
    scheme = parsed.scheme.lower()
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parsed.hostname or "").rstrip(".").lower(), port or default
