"""The JSON parser of the API: DRF's, with limits on what a parsed body may hold.

- Nesting: a body like ``[[[[…]]]]`` a thousand levels deep is about 2 KB, well under the
  size limit, yet Python's json module recurses once per level and raises RecursionError.
  No request of this API nests deeper than a few levels: deeper than MAX_DEPTH is refused.
- Encoding: JSON may escape a lone surrogate (``"\\ud800"``), which is no character at all;
  Python keeps it in the string and the database driver fails to encode it on write.
Both are parse errors (400 ``parse_error``) before any view sees the data.
"""

import json

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_json(value) -> None:
    """Refuse ``value`` if it nests deeper than MAX_DEPTH or holds a string that is not
    valid Unicode. Iterative, so a deep value cannot exhaust the stack being checked."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _is_unicode(item):
                raise ParseError(gettext("JSON holds a string that is not valid Unicode."))
            continue
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > MAX_DEPTH:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in children)


def _too_deep() -> ParseError:
    return ParseError(gettext("JSON nests deeper than %(max)s levels.") % {"max": MAX_DEPTH})


def _not_json(cause: BaseException | None, encoding: str) -> ParseError:
    """DRF's own parse errors are English only: say them again in words we translate."""
    if isinstance(cause, json.JSONDecodeError):
        return ParseError(
            gettext("The body is not valid JSON (line %(line)s, column %(column)s).")
            % {"line": cause.lineno, "column": cause.colno}
        )
    if isinstance(cause, LookupError):  # DRF refused the charset before reading
        return ParseError(
            gettext("The charset %(encoding)s of the Content-Type header is not supported.")
            % {"encoding": encoding}
        )
    if isinstance(cause, UnicodeError):
        return ParseError(gettext("The body is not valid %(encoding)s.") % {"encoding": encoding})
    return ParseError(gettext("The body is not valid JSON."))


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        except ParseError as exc:
            raise _not_json(exc.__context__, encoding) from exc
        check_json(data)
        return data
