"""The client's address of a request, believing X-Forwarded-For only from trusted proxies.

Anyone can send an X-Forwarded-For header, so it is read only when the peer (the TCP
connection's other end) is one of `settings.trusted_proxies`. Then the header is read from
the right: each proxy appends the address it saw, so the first address that is not itself a
trusted proxy is the client. Without trusted proxies the peer address is the client.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Optional, Sequence, Tuple, Union

from aiohttp import web

from bot.gateway.appkeys import SETTINGS

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


@lru_cache(maxsize=16)
def _networks(trusted: Tuple[str, ...]) -> Tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def resolve_client_ip(peer: Optional[str], forwarded_for: Optional[str], trusted: Tuple[str, ...]) -> str:
    """The client address given the peer, the X-Forwarded-For header and the trusted proxies."""
    client = peer or ""
    networks = _networks(trusted)
    if not networks or not forwarded_for or not _is_trusted(client, networks):
        return client
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage in the header: the last proxy we trust is all we know
        client = hop
        if not _is_trusted(hop, networks):
            break
    return client


def client_ip(request: web.Request) -> str:
    """The client address of `request` (see the module docstring)."""
    trusted = request.config_dict[SETTINGS].trusted_proxies
    return resolve_client_ip(request.remote, request.headers.get("X-Forwarded-For"), trusted)
