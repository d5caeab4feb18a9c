"""Where a release may go: the address policy of probes, applied to destinations.

A teacher types the host of a destination; without a policy, a release worker
would send requests wherever it points (the platform itself, the class's
network, a cloud's metadata service) and report what came back. Every host a
remote names is resolved and each of its addresses checked here, before the
upload, for a message that names the option; the connections themselves then
go through the egress proxy, which checks again whatever host rclone is led to
(redirects, URLs a server returns, a second DNS answer). SFTP and plain FTP are
pinned to the checked address as well.
No Django here: dispatch workers use this module.
"""

from __future__ import annotations

from worker_wing.network_policy import AddressBlocked, Network, resolve_target
from worker_wing.release.remotes import Remote, RemoteError

OPENED_BY = "the operator's PPIPE_DESTINATION_ALLOWED_NETWORKS"


class DestinationUnreachable(OSError):
    """The host does not resolve now: worth another attempt."""


def _pinnable(remote: Remote) -> bool:
    if remote.type == "sftp":
        return True
    tls = {remote.options.get("tls", ""), remote.options.get("explicit_tls", "")}
    return remote.type == "ftp" and not tls & {"true", "1"}


def checked_remote(remote: Remote, allowed: list[Network]) -> Remote:
    """The remote, its every host checked after DNS (RemoteError names a refused one)."""
    for option, host, port in remote.hosts():
        try:
            target = resolve_target(host, port, allowed, opened_by=OPENED_BY)
        except AddressBlocked as error:
            raise RemoteError(f"the destination's {option} {host!r} is refused: {error}") from None
        except OSError as error:
            raise DestinationUnreachable(str(error)) from None
        if _pinnable(remote):
            remote = remote.with_option(option, str(target.address))
    return remote
