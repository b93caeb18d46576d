"""The apps stand in layers, and no app imports one above it: backend (the shared core) imports
no domain app, accounts none but backend, and so on up to demo, which knows them all. A new
import that breaks the order, or any cycle between apps, fails here. Imports are read with
ast from every module of every app (also those inside functions)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# app -> the apps it may import. Anything else (an app above it, a cycle) is refused.
ALLOWED = {
    "backend": set(),
    "accounts": {"backend"},
    "suppliers": {"backend", "accounts"},
    "buyers": {"backend", "accounts"},
    "products": {"backend", "accounts", "suppliers", "buyers"},
    "orders": {"backend", "accounts", "suppliers", "buyers", "products"},
    "payments": {"backend", "accounts", "suppliers", "buyers", "products", "orders"},
    "logistics": {"backend", "accounts", "suppliers", "buyers", "products", "orders"},
    # The outbox hears every app below it through backend.outbox, and reads their rows.
    "notices": {
        "backend",
        "accounts",
        "suppliers",
        "buyers",
        "products",
        "orders",
        "payments",
        "logistics",
    },
    # Above the outbox: registers the webhook channel and the partner systems' group.
    "partners": {
        "backend",
        "accounts",
        "suppliers",
        "buyers",
        "products",
        "orders",
        "payments",
        "logistics",
        "notices",
    },
    "demo": {
        "backend",
        "accounts",
        "suppliers",
        "buyers",
        "products",
        "orders",
        "payments",
        "logistics",
        "partners",
        "notices",
    },
    # The manager's phone page: templates over every domain app's services and selectors.
    "mobile": {
        "backend",
        "accounts",
        "suppliers",
        "buyers",
        "products",
        "orders",
        "payments",
        "logistics",
        "partners",
        "notices",
    },
}


def imported_apps(path: Path) -> set[str]:
    """The top-level project apps a module imports (absolute imports only; relative ones stay
    inside the app)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(ALLOWED)
    return found


def app_graph() -> dict[str, dict[str, set[str]]]:
    """app -> imported app -> the modules that import it."""
    graph: dict[str, dict[str, set[str]]] = {app: {} for app in ALLOWED}
    for app in ALLOWED:
        for path in (ROOT / app).rglob("*.py"):
            for other in imported_apps(path) - {app}:
                graph[app].setdefault(other, set()).add(str(path.relative_to(ROOT)))
    return graph


def test_every_app_directory_is_in_the_layering():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps == set(ALLOWED), "add the new app to ALLOWED, in its layer"


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_app_imports_only_the_layers_below_it(app):
    refused = {
        other: sorted(modules)
        for other, modules in app_graph()[app].items()
        if other not in ALLOWED[app]
    }
    assert refused == {}, f"{app} may import only {sorted(ALLOWED[app])}"


def test_no_import_cycle_between_apps():
    graph = {app: set(edges) for app, edges in app_graph().items()}
    state: dict[str, str] = {}

    def visit(app, path):
        state[app] = "open"
        for other in sorted(graph[app]):
            if state.get(other) == "open":
                pytest.fail("import cycle: " + " -> ".join([*path, app, other]))
            if other not in state:
                visit(other, [*path, app])
        state[app] = "done"

    for app in sorted(graph):
        if app not in state:
            visit(app, [])


def test_the_layering_check_sees_a_violation(tmp_path):
    """The reader itself: a function-level import of an app counts."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from orders.models import Order\n    import products.stock\n")
    assert imported_apps(module) == {"orders", "products"}


# --- Views and serializers read through selectors ------------------------------------------


def direct_queries(path: Path) -> list[str]:
    """`Model.objects…` (or `_default_manager`) in a module: a query that bypasses the
    selectors, and with them the access scopes."""
    return [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager")
    ]


@pytest.mark.parametrize("app", sorted(set(ALLOWED) - {"backend", "demo"}))
def test_views_and_serializers_query_only_through_selectors(app):
    paths = [ROOT / app / name for name in ("views.py", "serializers.py")]
    paths += list((ROOT / app).glob("api/*.py"))
    found = [hit for path in paths if path.exists() for hit in direct_queries(path)]
    assert not found, f"query through {app}/selectors.py instead: {found}"


def test_the_selector_check_sees_a_direct_query(tmp_path):
    views = tmp_path / "views.py"
    views.write_text("def get_queryset(self):\n    return Order.objects.all()\n")
    assert direct_queries(views) == ["views.py:2"]
