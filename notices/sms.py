"""SMS behind one small interface, as Chinese providers want it: a registered template (its
code) and its variables, never free text. ``SMS_BACKEND`` picks the backend; without Alibaba
Cloud credentials it is the console (or a file, ``SMS_FILE_PATH``), so development and tests
send nothing anywhere."""

import json
import logging
import sys
import threading
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class SmsBackend(Protocol):
    def send(self, *, phone: str, template_code: str, params: dict, text: str) -> None:
        """Send, or raise SmsError (retryable or not)."""


class ConsoleSmsBackend:
    """Writes each message as one JSON line to SMS_FILE_PATH, or to stdout."""

    _lock = threading.Lock()

    def send(self, *, phone: str, template_code: str, params: dict, text: str) -> None:
        line = json.dumps(
            {"phone": phone, "template": template_code, "params": params, "text": text},
            ensure_ascii=False,
        )
        path = settings.SMS_FILE_PATH
        with self._lock:
            if path:
                with open(path, "a", encoding="utf-8") as out:
                    out.write(line + "\n")
            else:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()


class AliyunSmsBackend:
    """Alibaba Cloud SMS (dysmsapi), through its official SDK, imported only when used:
    ``pip install alibabacloud_dysmsapi20170525``. The template code of each event type comes
    from ALIYUN_SMS_TEMPLATES (registered with the signature ALIYUN_SMS_SIGN_NAME)."""

    def __init__(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as open_api_models

        config = open_api_models.Config(
            access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
            access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
        )
        config.endpoint = settings.ALIYUN_SMS_ENDPOINT
        self.client = Client(config)

    def send(self, *, phone: str, template_code: str, params: dict, text: str) -> None:
        from alibabacloud_dysmsapi20170525 import models as sms_models

        code = settings.ALIYUN_SMS_TEMPLATES.get(template_code)
        if not code:
            raise SmsError(f"no Aliyun template for {template_code}", retryable=False)
        request = sms_models.SendSmsRequest(
            phone_numbers=phone.removeprefix("+86"),
            sign_name=settings.ALIYUN_SMS_SIGN_NAME,
            template_code=code,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        try:
            response = self.client.send_sms(request)
        except Exception as exc:  # the SDK's network and throttling errors: try later
            raise SmsError(repr(exc)) from exc
        if response.body.code != "OK":
            # Throttled (isv.BUSINESS_LIMIT_CONTROL) is worth a retry; the rest is not.
            retryable = "LIMIT" in (response.body.code or "")
            raise SmsError(f"{response.body.code}: {response.body.message}", retryable=retryable)


_backend: SmsBackend | None = None


def backend() -> SmsBackend:
    global _backend
    if _backend is None:
        _backend = import_string(settings.SMS_BACKEND)()
    return _backend


def reset_backend() -> None:
    """Forget the backend made from the settings (tests that change them)."""
    global _backend
    _backend = None
