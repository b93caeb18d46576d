"""Helpers every app's services use to write models the same way."""

from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

M = TypeVar("M", bound=models.Model)


def full_clean(instance: models.Model) -> None:
    """``instance.full_clean()``, with a set of fields unique together (a store's name within
    its organisation) refused under those fields: Django files it under no field, and the one
    error shape names the fields at fault."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        errors = exc.error_dict
        for error in list(errors.get(NON_FIELD_ERRORS, [])):
            fields = (error.params or {}).get("unique_check") or ()
            if error.code == "unique_together" and fields:
                errors[NON_FIELD_ERRORS].remove(error)
                for name in fields:
                    errors.setdefault(name, []).append(error)
        if not errors.get(NON_FIELD_ERRORS, True):
            del errors[NON_FIELD_ERRORS]
        raise ValidationError(errors) from exc


def model_create(model: type[M], **data: Any) -> M:
    """Build, validate against field validators and constraints, then save."""
    instance = model(**data)
    full_clean(instance)
    instance.save()
    return instance


def model_update(*, instance: M, data: dict[str, Any]) -> tuple[M, bool]:
    """Set the given fields, validate, and save only what changed."""
    changed = [name for name, value in data.items() if getattr(instance, name) != value]
    if not changed:
        return instance, False
    for name in changed:
        setattr(instance, name, data[name])
    full_clean(instance)
    update_fields = changed + (["updated_at"] if hasattr(instance, "updated_at") else [])
    instance.save(update_fields=update_fields)
    return instance, True
