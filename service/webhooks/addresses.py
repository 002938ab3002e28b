"""Where webhooks may be sent: SSRF protection for endpoint URLs.

In production a URL is refused when its host is, or resolves to, any address that is not
globally routable (loopback, private, link-local, carrier-grade NAT, multicast, reserved,
unspecified). Every resolved address is checked, so a name with one public and one private
record is refused. The check runs when an endpoint is saved and again before each send
(a name can start resolving elsewhere). In development everything is allowed, so a
receiver on localhost works.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

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


async def resolve(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in infos})


async def check_url(url: str, *, production: bool) -> str:
    """The cleaned URL, or Invalid when it is malformed or (in production) not public."""
    url = url.strip()
    host, port = parse_url(url)
    if not production:
        return url
    addresses = await resolve(host, port)
    if not addresses:
        raise Invalid(f"the host {host!r} does not resolve", field="url")
    private = [address for address in addresses if not is_public(address)]
    if private:
        raise Invalid(
            f"url resolves to a private, loopback or link-local address ({private[0]});"
            " webhooks may only target public addresses",
            field="url",
        )
    return url
