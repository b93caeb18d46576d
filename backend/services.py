"""Helpers every app's services use to write models the same way."""

from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def model_create(model: type[M], **data: Any) -> M:
    """Build, validate against field validators and constraints, then save."""
    instance = model(**data)
    instance.full_clean()
    instance.save()
    return instance


def model_update(*, instance: M, data: dict[str, Any]) -> tuple[M, bool]:
    """Set the given fields, validate, and save only what changed."""
    changed = [name for name, value in data.items() if getattr(instance, name) != value]
    if not changed:
        return instance, False
    for name in changed:
        setattr(instance, name, data[name])
    instance.full_clean()
    update_fields = changed + (["updated_at"] if hasattr(instance, "updated_at") else [])
    instance.save(update_fields=update_fields)
    return instance, True
