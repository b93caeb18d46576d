"""The JSON parser of the API: DRF's, with a nesting limit.

A body like ``[[[[…]]]]`` a thousand levels deep is about 2 KB, well under the size limit,
yet Python's json module recurses once per level and raises RecursionError, which no
caller expects. No request of this API nests deeper than a few levels, so anything deeper
than MAX_DEPTH is refused as a parse error before any view sees it.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def json_depth(value) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar); iterative, so a deep
    value cannot exhaust the stack while being measured."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(_("JSON nests deeper than %(max)s levels.") % {"max": MAX_DEPTH})
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth(data) > MAX_DEPTH:
            raise too_deep
        return data
