"""Where webhooks may be sent: SSRF protection for endpoint URLs.

In production a URL is refused when its host is, or resolves to, any address that is not
globally routable (loopback, private, link-local, carrier-grade NAT, multicast, reserved,
unspecified). Every resolved address is checked, so a name with one public and one private
record is refused. The check runs when an endpoint is saved and again before each send
(a name can start resolving elsewhere), and each send then connects to an address of that
very resolution (`send_target`): resolving again when connecting would let a name with a
zero TTL answer a public address to the check and a private one to the connection (DNS
rebinding). The request keeps the name in its `Host` header and, over TLS, as the SNI name
the certificate is verified against. In development everything is allowed and nothing is
pinned, so a receiver on localhost works (whichever of ::1 and 127.0.0.1 it listens on).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from service.errors import Invalid

MAX_URL_LENGTH = 2048


def parse_url(url: str) -> tuple[str, int]:
    """Host and port of an absolute http(s) URL; Invalid for anything else."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise Invalid(f"url must be at most {MAX_URL_LENGTH} characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid("url is not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("url must be an absolute http:// or https:// URL", field="url")
    if parts.username or parts.password:
        raise Invalid("url must not carry credentials", field="url")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def resolve(host: str, port: int) -> list[str]:
    """The addresses of a name, in the system's order of preference ([] when it does not
    resolve)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def check_url(url: str, *, production: bool, resolver: Resolver = resolve) -> str:
    """The cleaned URL, or Invalid when it is malformed or (in production) not public."""
    url = url.strip()
    host, port = parse_url(url)
    if not production:
        return url
    await _public_addresses(host, port, resolver)
    return url


@dataclass(frozen=True, slots=True)
class SendTarget:
    """Where one send connects: the URL to open, and what keeps the endpoint's name."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


async def send_target(url: str, *, production: bool, resolver: Resolver = resolve) -> SendTarget:
    """Check `url` as `check_url` does and, in production, pin the send to the first address
    of that same resolution; Invalid when the URL no longer passes."""
    url = url.strip()
    host, port = parse_url(url)
    if not production:
        return SendTarget(url)
    address = (await _public_addresses(host, port, resolver))[0]
    if address == host:  # an address literal: nothing to pin
        return SendTarget(url)
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port is not None else literal
    pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return SendTarget(pinned, {"Host": parts.netloc}, extensions)


async def _public_addresses(host: str, port: int, resolver: Resolver) -> list[str]:
    addresses = [host] if _is_address(host) else await resolver(host, port)
    if not addresses:
        raise Invalid(f"the host {host!r} does not resolve", field="url")
    private = [address for address in addresses if not is_public(address)]
    if private:
        raise Invalid(
            f"url resolves to a private, loopback or link-local address ({private[0]});"
            " webhooks may only target public addresses",
            field="url",
        )
    return addresses
