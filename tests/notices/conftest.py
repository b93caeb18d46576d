import json
import socket

import pytest

from accounts.models import User
from notices import sms


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sms_file(settings, tmp_path):
    """The console SMS backend, writing one JSON line per message to a file: the sink where a
    test counts what was really sent (the worker thread writes to it too)."""
    path = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "notices.sms.ConsoleSmsBackend"
    settings.SMS_FILE_PATH = str(path)
    sms.reset_backend()
    yield path
    sms.reset_backend()


def sent_sms(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def with_email(purchaser_user, manager_user):
    """The purchaser and the manager have e-mail addresses (factories give none)."""
    User.objects.filter(pk=purchaser_user.pk).update(email="caigou@example.cn")
    User.objects.filter(pk=manager_user.pk).update(email="hezuoshe@example.cn")
    purchaser_user.refresh_from_db()
    manager_user.refresh_from_db()
