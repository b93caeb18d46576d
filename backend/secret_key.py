"""Where SECRET_KEY comes from. A key anyone can read (a default in the code, the example env
file) lets them forge sessions, CSRF tokens and password-reset links, so none is ever used."""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE_NAME = "secret_key"
# Placeholders people copy without changing (the old default and the old example env file).
PLACEHOLDER_MARK = "change-me"

GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key(configured: str, *, embedded: bool, var_dir: Path) -> str:
    """The configured key; on the embedded default (no DATABASE_URL) without one, a random key
    made on first run and kept in var/. Any other deployment refuses to start without a key."""
    configured = configured.strip()
    if PLACEHOLDER_MARK in configured.lower():
        raise ImproperlyConfigured(
            f"SECRET_KEY is still the published placeholder; set your own: {GENERATE_HINT}"
        )
    if configured:
        if _is_weak(configured):
            raise ImproperlyConfigured(
                "SECRET_KEY is too weak: use at least 50 characters, at least 5 of them "
                f"different, not Django's 'django-insecure-' kind: {GENERATE_HINT}"
            )
        return configured
    if not embedded:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Every deployment with a DATABASE_URL needs its own secret "
            f"key (docker/env.example): {GENERATE_HINT}"
        )
    return _kept_key(var_dir / KEY_FILE_NAME)


def _is_weak(key: str) -> bool:
    """Django's own rule (the security.W009 check), enforced rather than warned about."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")


def _kept_key(path: Path) -> str:
    """Read the key kept at path, or make one. Web, worker and manage.py processes of the
    embedded default may start together: the file appears whole (hard link of a written temp
    file) or not at all, and the first one made wins."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    try:
        os.link(temp, path)
    except FileExistsError:
        pass  # another process made it first; use theirs
    finally:
        temp.unlink()
    return path.read_text().strip()
