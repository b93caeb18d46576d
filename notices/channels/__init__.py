"""The channel registry. The notices app registers e-mail, SMS and the inbox at start-up;
another app registers its own (the partners app: ``webhook``) in its AppConfig.ready()."""

from .base import FAILED, RETRY, SENT, Attempt, Channel

__all__ = ["FAILED", "RETRY", "SENT", "Attempt", "Channel", "get", "register", "registered"]

_channels: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    """Register (or replace, e.g. in a test) the channel called ``channel.name``."""
    _channels[channel.name] = channel


def get(name: str) -> Channel | None:
    return _channels.get(name)


def registered() -> set[str]:
    return set(_channels)
