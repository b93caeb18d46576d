"""The SSRF guard of webhook URLs: a partner names a URL and our servers POST to it, so a URL
must never reach into our own network (the database, Redis, a cloud's metadata service).

Checked when an endpoint is saved (a clear 400 naming ``url``) and again before every send
(an address may change after it was saved), on every address the host resolves to. The
transport then connects to the address checked here, not to a second resolution of the name
(a DNS answer that changes in between cannot slip past)."""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

SCHEMES = {"http": 80, "https": 443}


class UnsafeUrl(ValueError):
    """The URL may not be called; ``str()`` says why, in the active language. ``transient``:
    the host did not resolve (it may later), rather than a rule refusing it."""

    def __init__(self, message, *, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.transient = transient

    def __str__(self):
        return str(self.message)


@dataclass(frozen=True)
class Target:
    """Where a checked URL is sent: the host as written (for Host and TLS), the port, the path
    with its query, and the checked addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (a seam the tests replace to name private ones)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def refusal(address: str, *, allow_loopback: bool):
    """Why this address may not be called, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if ip.is_loopback:
        return None if allow_loopback else _("a loopback address")
    if ip.is_private:
        return _("a private address")
    if ip.is_link_local:
        return _("a link-local address")
    if ip.is_multicast:
        return _("a multicast address")
    if ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return _("a reserved address")
    return None


def parse(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an http(s) URL, or UnsafeUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(_("Enter a valid http or https URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl(_("Only http and https URLs are allowed."))
    if not parts.hostname:
        raise UnsafeUrl(_("Enter a valid http or https URL."))
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl(_("A webhook URL may not hold a user name or password."))
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UnsafeUrl(_("Enter a valid http or https URL."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or SCHEMES[scheme], path


def check(url: str, *, allow_loopback: bool | None = None) -> Target:
    """The URL's target if every address it resolves to may be called, else UnsafeUrl."""
    if allow_loopback is None:
        allow_loopback = settings.PARTNER_WEBHOOKS_ALLOW_LOOPBACK
    scheme, host, port, path = parse(url)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise UnsafeUrl(_("The host %(host)s cannot be resolved.") % {"host": host}, transient=True)
    for address in addresses:
        why = refusal(address, allow_loopback=allow_loopback)
        if why is not None:
            raise UnsafeUrl(
                _(
                    "%(host)s resolves to %(why)s (%(address)s): webhooks go to public "
                    "addresses only."
                )
                % {"host": host, "why": why, "address": address}
            )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
