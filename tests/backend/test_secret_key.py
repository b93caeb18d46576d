"""No deployment runs with a publicly known SECRET_KEY: the embedded default makes its own and
keeps it in var/; any other refuses to start without one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from backend.secret_key import secret_key

ROOT = Path(__file__).resolve().parent.parent.parent
FORMER_DEFAULT = "insecure-dev-key-change-me-in-production"
FORMER_EXAMPLE = "change-me-to-a-long-random-string-of-at-least-fifty-characters-0123456789"

PROBE = """
import json, os, sys
import backend.secret_key as keys
kept = keys._kept_key
def kept_in_probe(path):  # never touch the checkout's var/ from a test
    print(json.dumps({"kept_at": str(path)}))
    return "probe-" + "k" * 50
keys._kept_key = kept_in_probe
import django
from django.conf import settings
django.setup()
print(json.dumps({
    "SECRET_KEY": settings.SECRET_KEY,
    "NUM_PROXIES": settings.REST_FRAMEWORK["NUM_PROXIES"],
    "SECURE_PROXY_SSL_HEADER": settings.SECURE_PROXY_SSL_HEADER,
}))
"""


def settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Load backend.settings in a fresh interpreter with exactly this environment (plus PATH),
    as gunicorn, Celery or manage.py would; stdout holds JSON lines of what it saw."""
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "backend.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def probed(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    seen = {}
    for line in result.stdout.splitlines():
        seen.update(json.loads(line))
    return seen


# --- the rule -----------------------------------------------------------------------------------


def test_embedded_default_makes_a_random_key_and_keeps_it(tmp_path):
    first = secret_key("", embedded=True, var_dir=tmp_path / "var")
    assert len(first) >= 50
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert secret_key("", embedded=True, var_dir=tmp_path / "var") == first  # kept
    assert secret_key("", embedded=True, var_dir=tmp_path / "other") != first  # random
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["secret_key"]  # no temp left


OWN_KEY = "a-deployments-own-key-" + "0123456789abcdefghijklmnopqrstuvwxyz"


def test_a_configured_key_is_used_as_given(tmp_path):
    assert secret_key(f"  {OWN_KEY}  ", embedded=False, var_dir=tmp_path) == OWN_KEY
    assert secret_key(OWN_KEY, embedded=True, var_dir=tmp_path) == OWN_KEY
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("embedded", [True, False])
@pytest.mark.parametrize(
    "configured",
    ["my-own-key", "s" * 60, "abcd" * 20, "django-insecure-" + OWN_KEY],
    ids=["short", "one character", "four characters", "django-insecure"],
)
def test_weak_keys_are_refused(tmp_path, configured, embedded):
    with pytest.raises(ImproperlyConfigured, match="too weak"):
        secret_key(configured, embedded=embedded, var_dir=tmp_path)


@pytest.mark.parametrize("configured", ["", "   "])
def test_a_deployment_without_a_key_refuses_to_start(tmp_path, configured):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        secret_key(configured, embedded=False, var_dir=tmp_path)


@pytest.mark.parametrize("embedded", [True, False])
@pytest.mark.parametrize("configured", [FORMER_DEFAULT, FORMER_EXAMPLE, "CHANGE-ME-please"])
def test_published_placeholders_are_refused(tmp_path, configured, embedded):
    with pytest.raises(ImproperlyConfigured, match="placeholder"):
        secret_key(configured, embedded=embedded, var_dir=tmp_path)


# --- the settings, as a server process loads them ------------------------------------------------


def test_settings_with_database_url_and_no_key_refuse_to_load():
    result = settings_in_subprocess({"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_without_database_url_keep_a_key_in_var():
    seen = probed(settings_in_subprocess({}))
    assert seen["kept_at"] == str(ROOT / "var" / "secret_key")
    assert seen["SECRET_KEY"] == "probe-" + "k" * 50


def test_settings_use_the_key_they_are_given():
    seen = probed(
        settings_in_subprocess(
            {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "SECRET_KEY": OWN_KEY}
        )
    )
    assert seen["SECRET_KEY"] == OWN_KEY
    assert "kept_at" not in seen
