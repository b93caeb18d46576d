from django import template
from django.utils import translation

from backend import formatting
from products.models import quantity_text

register = template.Library()


@register.simple_tag
def quantity(value, unit):
    """A quantity as messages write it ("50 公斤"), in the page's language."""
    return quantity_text(value, unit)


@register.filter
def money(value):
    return str(formatting.money(value))


@register.filter
def day(value):
    return str(formatting.date(value)) if value else ""


@register.filter
def local_name(thing):
    """The English name on an English page when there is one; the Chinese name otherwise."""
    english = getattr(thing, "name_en", "")
    if english and not translation.get_language().startswith("zh"):
        return english
    return getattr(thing, "name_zh", None) or str(thing)


@register.filter
def month(value):
    return str(formatting.month(value)) if value else ""
