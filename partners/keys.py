"""How the outbox names a webhook endpoint as a recipient: ``webhook:<id>``."""

PREFIX = "webhook:"


def recipient_key(endpoint_id: int) -> str:
    return f"{PREFIX}{endpoint_id}"


def endpoint_id_of(key: str) -> int | None:
    if not key.startswith(PREFIX) or not key[len(PREFIX) :].isdigit():
        return None
    return int(key[len(PREFIX) :])
