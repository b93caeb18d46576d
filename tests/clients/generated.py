"""A Python client generated from the live schema with openapi-python-client, the way a
partner's developer makes one, and found by the contract's own names: an operation by its
method and path, a model by its component. The other half of issue 11 renames operation ids,
tags and components; the tour follows whatever the schema says."""

import datetime
import enum
import importlib
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import attrs
import httpx
from openapi_python_client.strings import ClassName, PythonIdentifier

PACKAGE = "shitun_market_client"
# The generator's default prefix for names that are not identifiers (see its ConfigFile).
FIELD_PREFIX = "field_"
# No post hooks: formatting the generated code with ruff is for people reading it, and the
# run must not depend on what is on PATH.
# XLSX exports (statements, bank batch files) are bytes to the generator, as its own docs
# advise for a content type it does not know.
CONFIG = (
    f"package_name_override: {PACKAGE}\npost_hooks: []\n"
    "content_type_overrides:\n"
    "  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet:"
    " application/octet-stream\n"
)


class GenerationFailed(AssertionError):
    pass


def generate(schema_url: str, workdir: Path) -> ModuleType:
    """Run the generator's command line on the live schema and import the package it writes.
    Any warning (a part of the schema it could not turn into code) fails the run."""
    config = workdir / "config.yaml"
    config.write_text(CONFIG)
    out = workdir / PACKAGE
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--url",
        schema_url,
        "--meta",
        "none",
        "--config",
        str(config),
        "--output-path",
        str(out),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    output = run.stdout + run.stderr
    if run.returncode != 0 or "encountered while generating" in output:
        raise GenerationFailed(output)
    sys.path.insert(0, str(workdir))
    return importlib.import_module(PACKAGE)


class GeneratedApi:
    """The generated package, with the schema it came from."""

    def __init__(self, package: ModuleType, schema: dict):
        self.package = package
        self.schema = schema
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.Client = package.Client
        self.AuthenticatedClient = package.AuthenticatedClient

    def _operation(self, method: str, path: str) -> dict:
        return self.schema["paths"][path][method.lower()]

    def operation(self, method: str, path: str) -> ModuleType:
        """The generated module for one operation: api/<first tag>/<operation id>.py."""
        operation = self._operation(method, path)
        tag = PythonIdentifier((operation.get("tags") or ["default"])[0], prefix="tag")
        name = PythonIdentifier(operation["operationId"], prefix=FIELD_PREFIX)
        return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")

    def body(self, method: str, path: str) -> type:
        """The generated model of an operation's JSON request body."""
        content = self._operation(method, path)["requestBody"]["content"]["application/json"]
        return self.model(content["schema"]["$ref"])

    def parameter_enum(self, method: str, path: str, name: str) -> type[enum.Enum]:
        """The generated enum of a query parameter (its class is named after the operation)."""
        hints = typing.get_type_hints(self.operation(method, path).sync_detailed)
        choices = [
            arg
            for arg in typing.get_args(hints[name])
            if isinstance(arg, type) and issubclass(arg, enum.Enum)
        ]
        assert len(choices) == 1, (name, hints[name])
        return choices[0]

    def model(self, ref: str) -> type:
        component = ref.rsplit("/", 1)[-1]
        return getattr(self.models, ClassName(component, FIELD_PREFIX))

    def items_model(self, method: str, path: str, field: str) -> type:
        """The generated model of the items of an array property of a request body, e.g. an
        order's lines."""
        component = self._operation(method, path)["requestBody"]["content"]["application/json"]
        body = self.schema["components"]["schemas"][component["schema"]["$ref"].rsplit("/")[-1]]
        return self.model(body["properties"][field]["items"]["$ref"])


def fetch_schema(url: str) -> dict:
    """The schema the generator read, kept to find operations and models by their names in
    the contract (not part of the tour)."""
    response = httpx.get(url, headers={"Accept": "application/json"}, timeout=30)
    response.raise_for_status()
    return response.json()


def call(api: GeneratedApi, method: str, path: str, *, client, expect: int = 200, **kwargs):
    """One operation through the generated client: the response, when its status is the one
    expected and its parsed values have the types the generated models declare."""
    response = api.operation(method, path).sync_detailed(client=client, **kwargs)
    assert response.status_code == expect, (method, path, response.status_code, response.content)
    assert not untrue_types(response.parsed), (method, path, untrue_types(response.parsed))
    return response


def _type_names(value) -> set[str]:
    """The names an annotation of the generated code may give a value of this type."""
    if value is None:
        return {"None"}
    if isinstance(value, bool):
        return {"bool"}
    if isinstance(value, int):
        return {"int", "float"}  # a JSON integer is a valid number
    if isinstance(value, datetime.datetime):
        return {"datetime.datetime"}
    if isinstance(value, datetime.date):
        return {"datetime.date"}
    if isinstance(value, list):
        return {"list"}
    names = {type(value).__name__}
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        names.add("str")
    return names


def untrue_types(parsed, where: str = "") -> list[str]:
    """Where a parsed answer's values are not of the types the generated models declare. The
    generator only converts dates and nested models; everything else is taken as it comes, so
    a decimal string documented as a number, or an id documented as a string, parses without
    complaint and surprises the partner's code later; a field the schema leaves out lands in
    additional_properties. Empty when the schema told the truth."""
    if isinstance(parsed, list):
        return [wrong for i, item in enumerate(parsed) for wrong in untrue_types(item, where)]
    if not attrs.has(type(parsed)):
        return []
    wrong = []
    declared_fields = [
        f.name for f in attrs.fields(type(parsed)) if f.name != "additional_properties"
    ]
    extra = getattr(parsed, "additional_properties", {})
    if declared_fields and extra:  # a model of only additionalProperties is a map by design
        wrong.append(f"{where}{type(parsed).__name__}: undocumented fields {sorted(extra)}")
    for field in attrs.fields(type(parsed)):
        if field.name == "additional_properties":
            continue
        value = getattr(parsed, field.name)
        if type(value).__name__ == "Unset":
            continue
        declared = {part.strip().split("[")[0] for part in str(field.type).split("|")}
        here = f"{where}{type(parsed).__name__}.{field.name}"
        if not _type_names(value) & declared:
            wrong.append(f"{here}: {value!r} is not {field.type}")
        wrong += untrue_types(value, f"{here} > ")
    return wrong
