"""Where a webhook may send: http(s) addresses of public hosts only.

A webhook URL is a request the server makes on an admin's behalf, so an
address inside the company network (the database, a metadata service,
localhost) would let it reach what it should not (SSRF). Every address the
host resolves to must be public, unless WEBHOOKS_ALLOW_PRIVATE_TARGETS is on
(development, tests). The check runs when the URL is saved and again at
every send, and the send connects to the address that was checked (the Host
header and TLS name stay the URL's host), so a DNS answer that changes in
between (DNS rebinding) gains nothing.
"""
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..errors import Invalid
from .models import URL_MAX

SCHEMES = {"http": 80, "https": 443}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Target:
    """What to connect to for one send: the URL with the checked address in place of the host name."""
    url: str
    headers: dict = field(default_factory=dict)
    extensions: dict = field(default_factory=dict)


def private_targets_allowed():
    return bool(current_app.config["WEBHOOKS_ALLOW_PRIVATE_TARGETS"])


def checked_url(url):
    """The URL, stripped, if a webhook may send to it; else Invalid with a message on the field `url`."""
    parts = _parsed(url)
    if not private_targets_allowed():
        _public_addresses(parts)
    return urlunsplit(parts)


def pinned_target(url):
    """Resolve and check the URL's host now, for one send: a Target that connects to that very address."""
    parts = _parsed(url)
    addresses = _addresses(parts) if private_targets_allowed() else _public_addresses(parts)
    host = parts.hostname
    if _literal(host) is not None:
        return Target(urlunsplit(parts))
    address = addresses[0]
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port is not None:
        netloc += f":{parts.port}"
    pinned = urlunsplit(parts._replace(netloc=netloc))
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Target(pinned, headers={"Host": parts.netloc}, extensions=extensions)


def _parsed(url):
    if not isinstance(url, str) or not url.strip():
        raise _invalid(_l("Give the address to send events to, e.g. https://crm.example.com/hooks."))
    url = url.strip()
    if len(url) > URL_MAX:
        raise _invalid(_l("Keep the address to %(n)d characters.", n=URL_MAX))
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise _invalid(_l("An address can't contain spaces or control characters."))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (a port out of range or not a number raises here)
    except ValueError:
        raise _invalid(_l("This is not a web address.")) from None
    if parts.scheme.lower() not in SCHEMES:
        raise _invalid(_l("Use an address that starts with https:// (or http://)."), code="unsupported_scheme")
    if not parts.hostname:
        raise _invalid(_l("The address needs a host name, e.g. https://crm.example.com/hooks."))
    if parts.username is not None or parts.password is not None:
        raise _invalid(_l("Leave the user name and password out of the address: receivers check the signature "
                          "instead."))
    if _literal(parts.hostname) is None and not _valid_host_name(parts.hostname):
        raise _invalid(_l("%(host)s is not a valid host name.", host=parts.hostname))
    return parts._replace(scheme=parts.scheme.lower())


def _valid_host_name(host):
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.rstrip(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.match(label) for label in labels)


def _literal(host):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _addresses(parts):
    """Every address the host stands for (the literal itself, or what DNS answers now)."""
    literal = _literal(parts.hostname)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or SCHEMES[parts.scheme], type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _invalid(_l("The host name %(host)s could not be found.", host=parts.hostname),
                       code="unknown_host") from None
    addresses = []
    for *_rest, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _public_addresses(parts):
    """_addresses(), refusing a host with any address that is not public (one is enough to be steered to)."""
    addresses = _addresses(parts)
    for address in addresses:
        if not is_public(address):
            if _literal(parts.hostname) is not None:
                message = _l("%(address)s is a private or local address. Webhooks only go to public addresses.",
                             address=address)
            else:
                message = _l("%(host)s points to %(address)s, a private or local address. Webhooks only go to "
                             "public addresses.", host=parts.hostname, address=address)
            raise _invalid(message, code="private_address")
    return addresses


def is_public(address):
    """Whether an address is on the public internet: not private, loopback, link-local, reserved, shared,
    multicast or unspecified (an IPv4 address written as IPv6 counts as itself)."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _invalid(message, code="invalid_url"):
    return Invalid(code, fields={"url": message})
