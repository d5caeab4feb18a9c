"""Where a worker may connect on a user's behalf: the SSRF policy, applied after DNS.

A probe target is a URL a student typed; a destination's host is one a teacher
typed. Either could name the machine's own services, the class's private
network or a cloud's metadata service. So the host is resolved on the worker,
every address it resolves to is checked, and the caller connects to a checked
address where it can (never resolving the name again, so a DNS answer that
changes in between cannot slip past). By default only globally routable
addresses pass; an operator or a teacher opens more with CIDR ranges (a class
network; tests open the loopback).

"Globally routable" is the `ipaddress` module's `is_global` (IANA's special
registries), plus what it lets through but should not: addresses that embed
an IPv4 address (6to4, NAT64) are judged by the address they embed, Teredo and
local-use NAT64 are refused whole, and the deprecated site-local and 6to4-relay
ranges are refused. No Django here: probe and dispatch workers use this module.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services answer on these; named apart so the message says so.
METADATA = [
    ipaddress.ip_network("169.254.169.254/32"),
    ipaddress.ip_network("100.100.100.200/32"),
    ipaddress.ip_network("fd00:ec2::254/128"),
]
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Ranges `is_global` calls global that a worker must not reach all the same.
_REFUSED = [
    (ipaddress.ip_network("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (ipaddress.ip_network("2001::/32"), "a Teredo tunnel address"),
    (ipaddress.ip_network("fec0::/10"), "a site-local address"),
    (ipaddress.ip_network("192.88.99.0/24"), "a 6to4 relay address"),
]


class AddressBlocked(ValueError):
    """The address is not allowed by the policy; the message says which and why."""


def parse_networks(text: str | Iterable[str]) -> list[Network]:
    """CIDR ranges from a comma- or space-separated text; ValueError names a bad one."""
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"{item!r} is not a network: write CIDR ranges such as 10.1.0.0/16"
            ) from None
    return networks


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_global(address: Address) -> str:
    """Why a worker may not connect to the address ("" when it may)."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = why_not_global(inner)
        return f"an IPv6 address that embeds {inner}, {why}" if why else ""
    if any(address in network for network in METADATA):
        return "a cloud metadata address"
    for network, why in _REFUSED:
        if address.version == network.version and address in network:
            return why
    for attribute, why in (
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_private", "a private address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_unspecified", "an unspecified address"),
    ):
        if getattr(address, attribute):
            return why
    if not address.is_global:
        # 100.64.0.0/10 (carrier-grade NAT, where some clouds put metadata) and
        # the other shared or special-purpose ranges.
        return "not a globally routable address"
    return ""


def check_address(address: Address, allowed: list[Network], *, opened_by: str) -> None:
    """Raise AddressBlocked unless the address is global or inside an allowed range.

    `opened_by` names the setting that opens a range, for the message.
    """
    candidates = [address]
    inner = embedded_ipv4(address)
    if inner is not None:
        candidates.append(inner)
    if any(candidate in network for candidate in candidates for network in allowed):
        return
    why = why_not_global(address)
    if why:
        raise AddressBlocked(
            f"{address} is {why}; only public addresses are reached unless {opened_by} "
            "opens its range"
        )


@dataclass(frozen=True)
class ResolvedTarget:
    host: str
    port: int
    address: Address


def resolve_target(
    host: str, port: int, allowed: list[Network], *, opened_by: str
) -> ResolvedTarget:
    """The address to connect to: every address the host resolves to must pass."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OSError(f"the host {host!r} does not resolve: {error}") from None
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        check_address(address, allowed, opened_by=opened_by)
        addresses.append(address)
    return ResolvedTarget(host=host, port=port, address=addresses[0])
