"""The production files in docker/: no Docker engine runs here, so these read the files and
check what the stack relies on (services, health checks, start order, the environment)."""

import ast
import json
import re
import shlex
from pathlib import Path

import environ
import pytest
import yaml

from tests.backend.test_secret_key import probed, settings_in_subprocess

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("postgres", "redis", "web", "worker", "beat")

# What a person filling in env.example would paste (secrets.token_urlsafe(50) gives such).
FILLED_IN_KEY = "filled-in-by-the-operator-" + "0123456789abcdefghijklmnopqrstuvwxyz"


# --- helpers ----------------------------------------------------------------------------------


def settings_env_names() -> set[str]:
    """Every NAME in env.<type>("NAME", ...) or env("NAME") in backend/settings.py."""
    tree = ast.parse((ROOT / "backend" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def parse_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=value: {line!r}"
        values[key.strip()] = value.strip()
    return values


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, current = [], ""
    for raw in (DOCKER / "Dockerfile").read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        lines.append(current)
        current = ""
    result = []
    for line in lines:
        instruction, _sep, args = line.partition(" ")
        result.append((instruction.upper(), args.strip()))
    return result


def command_words(service: dict) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return parse_env_file(DOCKER / "env.example")


# --- compose.yaml -----------------------------------------------------------------------------


def test_compose_has_every_service(services):
    assert set(services) >= {"postgres", "redis", "migrate", "web", "worker", "beat"}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_service_has_a_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
    assert healthcheck.get("test"), f"{name} healthcheck has no test"


def test_database_and_redis_healthchecks_probe_the_server(services):
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_pgbouncer_pools_transactions_in_front_of_postgres_when_asked(services):
    pgbouncer = services["pgbouncer"]
    assert pgbouncer["profiles"] == ["pgbouncer"]  # opt in: the default stack connects directly
    assert pgbouncer["environment"]["POOL_MODE"] == "transaction"
    assert pgbouncer["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "6432" in " ".join(pgbouncer["healthcheck"]["test"])
    assert not pgbouncer.get("ports"), "only the stack's own services reach it"


def test_web_runs_gunicorn_on_the_wsgi_app(services):
    words = command_words(services["web"])
    assert words[0] == "gunicorn"
    assert "backend.wsgi:application" in words
    assert "8000:8000" in [str(port) for port in services["web"]["ports"]]


def test_web_healthcheck_asks_healthz(services):
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_worker_runs_celery_with_the_backend_app(services):
    words = command_words(services["worker"])
    assert words[:4] == ["celery", "-A", "backend", "worker"]
    assert "-B" not in words and "--beat" not in words, "beat must run in its own service"


def test_worker_healthcheck_pings_the_worker(services):
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_exactly_one_beat(services):
    beats = [
        name
        for name, service in services.items()
        if "celery" in command_words(service)
        and ("beat" in command_words(service) or {"-B", "--beat"} & set(command_words(service)))
    ]
    assert beats == ["beat"]
    assert command_words(services["beat"])[:4] == ["celery", "-A", "backend", "beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_migrate_runs_once_and_exits(services):
    words = command_words(services["migrate"])
    assert words[:3] == ["python", "manage.py", "migrate"]
    assert str(services["migrate"].get("restart", "no")) == "no"
    # The image's HEALTHCHECK asks /healthz on port 8000, which a migration never serves.
    assert services["migrate"]["healthcheck"].get("disable") is True


@pytest.mark.parametrize("name", ["web", "worker"])
def test_service_waits_for_healthy_stores_and_finished_migration(services, name):
    depends_on = services[name]["depends_on"]
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_beat_waits_for_redis_and_migration(services):
    depends_on = services["beat"]["depends_on"]
    assert depends_on["redis"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"


def test_migrate_waits_for_healthy_postgres(services):
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_builds_the_image_and_reads_env_example(services, name):
    service = services[name]
    assert service["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
    env_files = service["env_file"]
    env_files = [env_files] if isinstance(env_files, str) else env_files
    assert [(DOCKER / path).resolve() for path in env_files] == [DOCKER / "env.example"]


# --- env.example ------------------------------------------------------------------------------


def test_settings_reading_of_env_is_found():
    """Guards the parser below: if it found nothing, the next test would pass vacuously."""
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"} <= settings_env_names()


def test_env_example_defines_every_variable_settings_reads(env_example):
    missing = ({"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} | settings_env_names()) - set(
        env_example
    )
    assert not missing, f"docker/env.example lacks {sorted(missing)}"


def test_env_example_points_at_the_compose_services(env_example):
    database = environ.Env.db_url_config(env_example["DATABASE_URL"])
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "postgres"
    assert database["USER"] == env_example["POSTGRES_USER"]
    assert database["PASSWORD"] == env_example["POSTGRES_PASSWORD"]
    assert database["NAME"] == env_example["POSTGRES_DB"]
    assert re.match(r"redis://redis:6379/\d+$", env_example["REDIS_URL"])


def test_env_example_is_production_like(env_example):
    assert env_example["DEBUG"].lower() in ("false", "0", "off", "no")
    hosts = env_example["ALLOWED_HOSTS"].split(",")
    # The health checks call http://127.0.0.1:8000/healthz inside the container.
    assert "127.0.0.1" in hosts


def test_env_example_publishes_no_secret_key(env_example):
    """A key in a public file is a key anyone can use: each deployment brings its own."""
    assert env_example["SECRET_KEY"] == ""


def test_the_stack_refuses_env_example_until_its_secret_key_is_filled_in(env_example):
    as_shipped = settings_in_subprocess(env_example)
    assert as_shipped.returncode != 0
    assert "SECRET_KEY is not set" in as_shipped.stderr
    filled_in = probed(settings_in_subprocess({**env_example, "SECRET_KEY": FILLED_IN_KEY}))
    assert filled_in["SECRET_KEY"] == FILLED_IN_KEY


def test_proxy_count_fits_the_compose_file(services, env_example):
    """compose publishes gunicorn's port itself, with no reverse proxy in front: the client
    writes X-Forwarded-For, so no hop of it may be trusted as the address the login limit
    counts, nor X-Forwarded-Proto as proof of HTTPS."""
    fronting = [
        name for name, service in services.items() if "web" in service.get("depends_on", {})
    ]
    assert services["web"].get("ports") and not fronting
    assert env_example["NUM_PROXIES"] == "0"
    seen = probed(settings_in_subprocess({**env_example, "SECRET_KEY": FILLED_IN_KEY}))
    assert seen["NUM_PROXIES"] == 0
    assert seen["SECURE_PROXY_SSL_HEADER"] is None


def test_settings_trust_proxy_headers_only_behind_proxies(env_example):
    env = {**env_example, "SECRET_KEY": FILLED_IN_KEY, "NUM_PROXIES": "1"}
    seen = probed(settings_in_subprocess(env))
    assert seen["NUM_PROXIES"] == 1
    assert seen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_starts_from_python_311_slim():
    instructions = dockerfile_instructions()
    assert [args for name, args in instructions if name == "FROM"] == ["python:3.11-slim"]


def test_dockerfile_installs_the_project_and_collects_static():
    runs = " ".join(args for name, args in dockerfile_instructions() if name == "RUN")
    assert "pip install ." in runs
    assert "manage.py collectstatic" in runs


def test_dockerfile_bakes_no_secret_key_into_the_image():
    """collectstatic runs without DATABASE_URL, where settings would keep a key file in var/
    (and so in the image) unless it is given a throwaway key."""
    runs = [args for name, args in dockerfile_instructions() if name == "RUN"]
    collect = next(run for run in runs if "collectstatic" in run)
    assert re.search(r"SECRET_KEY=\"\$\(python -c '.*secrets\.token_urlsafe", collect), collect


def test_dockerfile_static_root_matches_env_example(env_example):
    envs = " ".join(args for name, args in dockerfile_instructions() if name == "ENV")
    assert f"STATIC_ROOT={env_example['STATIC_ROOT']}" in envs.split()


def test_dockerfile_runs_as_a_non_root_user():
    users = [args for name, args in dockerfile_instructions() if name == "USER"]
    assert users, "no USER instruction: the container runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_has_a_healthcheck_on_healthz():
    checks = [args for name, args in dockerfile_instructions() if name == "HEALTHCHECK"]
    assert len(checks) == 1
    assert not checks[0].upper().startswith("NONE")
    assert "/healthz" in checks[0]


def test_dockerfile_default_command_is_gunicorn():
    commands = [args for name, args in dockerfile_instructions() if name in ("CMD", "ENTRYPOINT")]
    assert commands, "no CMD or ENTRYPOINT"
    last = commands[-1]
    words = json.loads(last) if last.startswith("[") else shlex.split(last)
    assert "gunicorn" in words  # the program itself (or `python -m gunicorn`)
    assert "backend.wsgi:application" in words


def test_gunicorn_config_uses_sync_workers_from_web_concurrency(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    config: dict = {}
    exec((DOCKER / "gunicorn.conf.py").read_text(), config)
    assert config["worker_class"] == "sync"
    assert config["workers"] == 3
    assert config["bind"] == "0.0.0.0:8000"
