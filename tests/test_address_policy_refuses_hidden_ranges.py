"""The address policy of probes and destinations refuses every address that is
not globally routable, including the ranges `is_private` misses and IPv6
addresses that carry a private or loopback IPv4 address inside them."""

from __future__ import annotations

import ipaddress
import re

import pytest

from worker_wing.network_policy import AddressBlocked, check_address, parse_networks


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.1",  # carrier-grade NAT
        "100.100.100.200",  # a cloud's metadata service inside it
        "192.88.99.1",  # 6to4 relay anycast
        "2002:7f00:1::1",  # 6to4 embedding 127.0.0.1
        "2002:a00:5::1",  # 6to4 embedding 10.0.0.5
        "fec0::1",  # site-local
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "::ffff:10.1.2.3",
        "198.18.0.1",
        "0.0.0.0",  # noqa: S104  (an address checked, not bound)
    ],
)
def test_hidden_private_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressBlocked, match=re.escape(str(ipaddress.ip_address(address)))):
        check_address(ipaddress.ip_address(address), [], opened_by="a test")


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    check_address(ipaddress.ip_address(address), [], opened_by="a test")


def test_an_opened_range_lets_its_embedded_form_through_too() -> None:
    opened = parse_networks("10.0.0.0/8")

    check_address(ipaddress.ip_address("10.0.0.5"), opened, opened_by="a test")
    check_address(ipaddress.ip_address("::ffff:10.0.0.5"), opened, opened_by="a test")
    with pytest.raises(AddressBlocked, match="opens its range"):
        check_address(ipaddress.ip_address("192.168.1.1"), opened, opened_by="a test")
