"""A corpus of malformed requests for the fuzz step of `make test`: no answer may be a 5xx.

Schemathesis generates requests that fit the schema's types; these are the ones a client gets
wrong or an attacker crafts on purpose, sent as raw bytes: JSON nested a thousand levels deep,
invalid UTF-8 and lone surrogates in bodies and headers, bodies over the size limit,
tampered pagination cursors, digits of other scripts, ids and amounts past every column,
dates out of range, multipart uploads broken every way. "Every JSON endpoint", "every
upload", "every list", every body field and query parameter come from the live OpenAPI
schema, and the orderings of a list from the fields it returns, so a new endpoint is covered
without editing this file. Run by scripts/fuzz_api.py against
its gunicorn server.
"""

import base64
import http.client
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

DEEP = ("[" * 1000 + "]" * 1000).encode()
BAD_UTF8 = b'{"name_zh": "\xff\xfe\xfd", "quantity": "\xc3\x28"}'
LONE_SURROGATE = b'{"name_zh": "\\ud800", "note": "\\udfff"}'
# Values for any body field: wrong types, other scripts' digits, past every column, NUL.
BAD_VALUES = [
    1.5,
    True,
    None,
    [],
    {},
    "１０",
    "٣",
    10**30,
    -(10**30),
    "1e999999",
    "NaN",
    "\x00",
    "x" * 5000,
    "0001-01-01",
    "9999-12-31",
]
# Values for any query parameter (already percent-encoded).
BAD_QUERY = [
    "%ff%fe",
    quote("１０"),
    quote("２０２６-01-01"),
    "99999999999999999999999",
    "-1",
    "1e999999",
    "NaN",
    "%00",
    "x" * 3000,
]
# Path ids: past bigint, other scripts' digits, not a number (percent-encoded).
BAD_IDS = ["0", "99999999999999999999999", quote("１"), "1.5", "-1", "%ff", "%00"]
BAD_HEADERS = [
    ("Authorization", b"Bearer \xff\xfe\xfd"),
    ("Authorization", b"Bearer \xe8\x9c\x82\xe8\x9c\x9c"),
    ("Authorization", b"Api-Key \xff\xfe.\xfd"),
    ("Authorization", b"Api-Key " + b"a" * 5000),
    ("If-None-Match", b'"\xff\xfe", W/"' + b"x" * 3000 + b'"'),
    ("Accept-Language", b"\xff\xfe;q=abc, zh;q=1e999999, " + b"en," * 500),
]
BAD_CONTENT_TYPES = [
    b"application/json; charset=nonsense",
    b"application/json; charset=rot13",
    b"application/json; charset=utf-16",
    b"application/json; charset=\xff",
    b"application/\xff\xfe",
    b"multipart/form-data; boundary=x",
]
CURSOR_QUERIES = [
    "o=0&r=0&p=abc",
    "o=0&r=0&p=1e999999",
    "o=0&r=0&p=NaN",
    "o=0&r=0&p=99999999999999999999999999",
    "o=0&r=0&p=2026-13-45",
    "o=0&r=0&p=%00",
    "o=-1&r=0",
    "o=99999999999999999999&r=0",
    "o=0&r=x",
]
TAMPERED_CURSORS = [base64.b64encode(q.encode()).decode() for q in CURSOR_QUERIES] + [
    "not-base64!",
    "5Lit5paH",
]


REFUSED_BEFORE_READING = {401, 403, 404, 405}
CLOSED = 0  # the connection closed without an answer
# The one 5xx that is not a bug: a payment provider switched off here (no Stripe keys in the
# fuzz's server), answered in the error shape with one of these codes; the schema documents
# it ("503") on the operations that reach a provider.
PROVIDER_OFF = {"rail_unavailable", "stripe_unavailable"}


def provider_off(status: int, body: bytes) -> bool:
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        return False
    return status == 503 and isinstance(error, dict) and error.get("code") in PROVIDER_OFF


LARGE = 1_000_000  # a body the server may refuse by closing the connection


@dataclass
class Request:
    role: str
    method: str
    path: str
    body: bytes | None = None
    headers: list[tuple[str, bytes | str]] = field(default_factory=list)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _body_properties(schema: dict, operation: dict) -> Iterator[tuple[list[str], dict]]:
    """(path of keys, property schema) of every field of the JSON body, one level into lists
    of objects (tiers, lines, contributions)."""
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    if body is None:
        return
    for name, prop in _resolve(schema, body).get("properties", {}).items():
        prop = _resolve(schema, prop)
        yield [name], prop
        items = _resolve(schema, prop.get("items", {})) if prop.get("type") == "array" else {}
        for sub in items.get("properties", {}):
            yield [name, sub], items


def _nest(keys: list[str], value) -> dict:
    return {keys[0]: value} if len(keys) == 1 else {keys[0]: [{keys[1]: value}]}


def _fill(path: str, value: str = "1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@dataclass
class Group:
    """The cases of one operation for one role, behind a well-formed request (the gate):
    when the gate is refused before the body or query is read (401, 403, 404, 405), so
    would every case be, and they are not sent."""

    gate: Request
    cases: list[Request]


def _part(name: bytes, content: bytes, *, filename: bytes | None = b"list.csv") -> bytes:
    disposition = b'Content-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
    return b"--b\r\n" + disposition + b"\r\n\r\n" + content + b"\r\n"


def _multipart(body: bytes, content_type: bytes = b"multipart/form-data; boundary=b") -> list:
    return [("Content-Type", content_type), ("Content-Length", str(len(body)))]


# Uploads (a multipart/form-data body), broken every way a client or an attacker breaks them.
MULTIPART_BODIES = [
    (_part(b"file", bytes(range(256))) + b"--b--\r\n", None),  # binary, not a list
    (_part(b"file", b"listing,quantity,store\n1,=1+1,x\n") + b"--b--\r\n", None),
    (_part(b"file", b"\xff\xfe\x00,\xc3\x28\n", filename=b"\xff\xfe\x00.csv") + b"--b--\r\n", None),
    (_part(b"file", b"PK\x03\x04" + b"\x00" * 200, filename=b"x.xlsx") + b"--b--\r\n", None),
    (_part(b"file", b"listing,quantity,store\n") + b"--b", None),  # never closed
    (_part(b"file", b"x") + b"--b--\r\n", b"multipart/form-data; boundary=other"),
    (_part(b"file", b"x") + b"--b--\r\n", b"multipart/form-data"),  # no boundary
    (_part(b"file", b"x") + b"--b--\r\n", b"multipart/form-data; boundary=\xff\xfe"),
    (_part(b"file", b"a", filename=b"a" * 10_000) + b"--b--\r\n", None),  # a huge header
    (_part(b"file", b"a") + _part(b"file", b"b") + b"--b--\r\n", None),  # twice
    (_part(b"file", b"not a file", filename=None) + b"--b--\r\n", None),  # a plain field
    (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--b--\r\n",
        None,
    ),
    (b"--b\r\nno headers at all\r\n--b--\r\n", None),
    (_part(b"file", b"x" * 3_000_000) + b"--b--\r\n", None),  # over the file limit
]


def multipart_cases(role: str, verb: str, target: str) -> list[Request]:
    cases = []
    for body, content_type in MULTIPART_BODIES:
        headers = _multipart(body, content_type) if content_type else _multipart(body)
        cases.append(Request(role, verb, target, body, headers))
    return cases


def groups_for(schema: dict, role: str, lists: dict[str, list[str]]) -> Iterator[Group]:
    """The corpus for one signed-in role. ``lists`` maps every list path to the fields its
    rows carry (candidate orderings)."""
    for path, item in schema["paths"].items():
        if path.endswith("/logout/"):
            continue  # would revoke the token in use
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            verb, target = method.upper(), _fill(path)
            empty = b"{}" if verb != "GET" else None
            cases = [Request(role, verb, _fill(path, bad), empty) for bad in BAD_IDS if "{" in path]
            if "requestBody" in operation:
                cases += [
                    Request(role, verb, target, body) for body in (DEEP, BAD_UTF8, LONE_SURROGATE)
                ]
                for keys, _prop in _body_properties(schema, operation):
                    for value in BAD_VALUES:
                        cases.append(
                            Request(role, verb, target, json.dumps(_nest(keys, value)).encode())
                        )
                if verb == "POST":
                    cases.append(
                        Request(role, verb, target, b"{}", [("Idempotency-Key", b"\xff\xfe")])
                    )
                if "multipart/form-data" in operation["requestBody"].get("content", {}):
                    cases += multipart_cases(role, verb, target)
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    for value in BAD_QUERY:
                        cases.append(Request(role, verb, f"{target}?{parameter['name']}={value}"))
            if verb == "GET" and path in lists:
                cases += [Request(role, "GET", path, headers=[header]) for header in BAD_HEADERS]
                for ordering in ["", *lists[path]]:
                    for tampered in TAMPERED_CURSORS:
                        query = {"cursor": tampered, **({"ordering": ordering} if ordering else {})}
                        cases.append(Request(role, "GET", f"{path}?{urlencode(query)}"))
            yield Group(Request(role, verb, target, empty), cases)


def anonymous_requests(schema: dict, body_limit: int) -> Iterator[Request]:
    """Without credentials: deep, undecodable and oversized bodies to every JSON endpoint
    (the login endpoint reads them before anything else)."""
    oversized = b'{"password": "' + b"x" * (body_limit + 1024) + b'"}'
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                for body in (DEEP, BAD_UTF8, LONE_SURROGATE, oversized):
                    yield Request("anonymous", method.upper(), _fill(path), body)
                for content_type in BAD_CONTENT_TYPES:
                    headers = [("Content-Type", content_type)]
                    yield Request("anonymous", method.upper(), _fill(path), b"{}", headers)


class Client:
    def __init__(self, base: str, tokens: dict[str, str]):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.tokens = tokens

    def send(self, request: Request) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.putrequest(request.method, request.path, skip_accept_encoding=True)
            names = {name.lower() for name, _value in request.headers}
            if request.role in self.tokens and "authorization" not in names:
                connection.putheader("Authorization", self.tokens[request.role])
            for name, value in request.headers:
                connection.putheader(name, value)
            if request.body is not None and "content-type" not in names:
                connection.putheader("Content-Type", "application/json")
                connection.putheader("Content-Length", str(len(request.body)))
            try:
                connection.endheaders(request.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered (401, 413) before reading all of a large body
            try:
                response = connection.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                return CLOSED, b""
        finally:
            connection.close()

    def get_json(self, role: str, path: str) -> dict:
        status, body = self.send(Request(role, "GET", path))
        return json.loads(body) if status == 200 else {}


def list_orderings(client: Client, schema: dict, role: str) -> dict[str, list[str]]:
    """Every paginated list (a GET without path parameters taking a cursor) and the fields of
    its first row, each a candidate ordering."""
    lists = {}
    for path, item in schema["paths"].items():
        parameters = {p["name"] for p in item.get("get", {}).get("parameters", [])}
        if "{" not in path and "cursor" in parameters:
            rows = client.get_json(role, f"{path}?page_size=1").get("results") or [{}]
            lists[path] = sorted(rows[0])
    return lists


def run(base: str, tokens: dict[str, str], body_limit: int = 2_621_440) -> list[str]:
    """Send the corpus as every role in ``tokens`` (role: Authorization header value) and
    anonymously; return what got a 5xx."""
    client = Client(base, tokens)
    schema = client.get_json("anonymous", "/api/schema/?format=json")
    groups = [
        Group(Request("anonymous", "GET", "/healthz"), list(anonymous_requests(schema, body_limit)))
    ]
    for role in tokens:
        groups += groups_for(schema, role, list_orderings(client, schema, role))
    with ThreadPoolExecutor(max_workers=4) as pool:
        gates = list(pool.map(client.send, [group.gate for group in groups]))
        corpus = [group.gate for group in groups]
        corpus += [
            case
            for group, (status, _body) in zip(groups, gates, strict=True)
            if status not in REFUSED_BEFORE_READING
            for case in group.cases
        ]
        skipped = sum(len(g.cases) for g in groups) + len(groups) - len(corpus)
        print(
            f"--- {len(corpus)} malformed requests as anonymous, {', '.join(tokens)} "
            f"({skipped} more skipped: the role may not use the operation)",
            flush=True,
        )
        answers = gates + list(pool.map(client.send, corpus[len(groups) :]))
    failures = [
        f"{status} {request.role} {request.method} {request.path[:200]} "
        f"body={(request.body or b'')[:120]!r} headers={request.headers!r}: {body[:200]!r}"
        for request, (status, body) in zip(corpus, answers, strict=True)
        if (status >= 500 and not provider_off(status, body))
        or (status == CLOSED and len(request.body or b"") < LARGE)
    ]
    for failure in failures:
        print(failure, flush=True)
    counts: dict[int, int] = {}
    for status, _body in answers:
        counts[status] = counts.get(status, 0) + 1
    print(f"--- answers by status: {dict(sorted(counts.items()))}", flush=True)
    return failures
