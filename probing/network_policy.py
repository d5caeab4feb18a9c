"""Where a probe may go: the SSRF policy, applied after DNS resolution.

A probe target is a URL a student typed: it could name the machine's own
services, the class's private network or a cloud's metadata service. So the
host is resolved here, every address it resolves to is checked, and the probe
connects to a checked address (never resolving the name again, so a DNS answer
that changes in between cannot slip past). By default only public addresses
pass; a teacher opens more with CIDR ranges (a class network; tests open the
loopback). No Django here: probe workers use this module.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services answer on these even where they are not link-local.
METADATA = [ipaddress.ip_network("169.254.169.254/32"), ipaddress.ip_network("fd00:ec2::254/128")]


class ProbeBlocked(ValueError):
    """The target is not allowed by the policy; the message says which address and why."""


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


def _why_not_public(address: Address) -> str:
    if any(address in network for network in METADATA):
        return "a cloud metadata address"
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
    return ""


def check_address(address: Address, allowed: list[Network]) -> None:
    """Raise ProbeBlocked unless the address is public or inside an allowed range."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return
    why = _why_not_public(address)
    if why:
        raise ProbeBlocked(
            f"{address} is {why}; probes go to public addresses unless the challenge "
            "allows its range (probe_allowed_networks)"
        )


@dataclass(frozen=True)
class ResolvedTarget:
    host: str
    port: int
    address: Address


def resolve_target(host: str, port: int, allowed: list[Network]) -> ResolvedTarget:
    """The address to connect to: every address the host resolves to must pass."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OSError(f"the host {host!r} does not resolve: {error}") from None
    addresses = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        check_address(address, allowed)
        addresses.append(address)
    return ResolvedTarget(host=host, port=port, address=addresses[0])
