import time

import pytest

from partners import signing

SECRET = "whsec_test"
BODY = b'{"id":"evt_1","type":"order.placed"}'


def test_sign_and_verify():
    header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert signing.verify(SECRET, BODY, header, now=1_700_000_100) == 1_700_000_000


@pytest.mark.parametrize(
    ("secret", "body", "now", "header"),
    [
        ("whsec_other", BODY, 1_700_000_000, None),  # another secret
        (SECRET, BODY + b" ", 1_700_000_000, None),  # the body changed
        (SECRET, BODY, 1_700_000_301, None),  # too old: a replay
        (SECRET, BODY, 1_699_999_699, None),  # from the future
        (SECRET, BODY, 1_700_000_000, ""),
        (SECRET, BODY, 1_700_000_000, "v1=abc"),  # no timestamp
        (SECRET, BODY, 1_700_000_000, "t=1700000000"),  # no signature
        (SECRET, BODY, 1_700_000_000, "t=1700000001,v1=" + "0" * 64),  # another timestamp
    ],
)
def test_what_does_not_verify(secret, body, now, header):
    if header is None:
        header = signing.sign(SECRET, BODY, timestamp=1_700_000_000)
    with pytest.raises(signing.SignatureError):
        signing.verify(secret, body, header, now=now)


def test_one_matching_signature_among_several_is_enough():
    good = signing.sign(SECRET, BODY).split(",")[1]
    header = f"t={int(time.time())},v1={'0' * 64},{good}"
    signing.verify(SECRET, BODY, header)


def test_secrets_are_new_each_time():
    assert signing.new_secret() != signing.new_secret()
    assert signing.new_secret().startswith("whsec_")
