"""The import graph of `bot`, `handlers` and `store` flows one way, without cycles (docs/architecture.md):

    runtime (bot/ top modules, bot/api, bot/devtools) → Slack layer (handlers/) → rules and flows
    (bot/<capability>/) → settings (bot/settings.py) → store (store/)

Inside the Slack layer, the shared kit (`handlers/*.py`) imports no capability package, and a capability
package uses another's public modules only (its ids, views, form and entry), never its listeners.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "store")
RANKS = {"store": 0, "settings": 1, "rules": 2, "slack": 3, "runtime": 4}
RUNTIME_PACKAGES = ("bot.api", "bot.cli", "bot.devtools")
PUBLIC_TO_OTHER_CAPABILITIES = {"ids", "views", "form", "entry"}
NO_SLACK_BELOW = ("slack_sdk", "slack_bolt")


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "store":
        return "store"
    if parts[0] == "handlers":
        return "slack"
    if module == "bot.settings":
        return "settings"
    top_module = len(parts) == 2 and MODULES[module].name != "__init__.py"
    if module == "bot" or top_module or module == "bot.cli" or module.startswith(RUNTIME_PACKAGES):
        return "runtime"
    return "rules"  # bot/<capability>/


def imports(module: str) -> Iterator[tuple[str, int]]:
    """Every project module `module` imports (at any depth of its code), with the line."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            if (target := _project_module(name)) is not None and target != module:
                yield target, node.lineno


def _project_module(name: str) -> str | None:
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def third_party(module: str) -> Iterator[tuple[str, int]]:
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno


def capability(module: str) -> str | None:
    """`handlers.company.views` → `company`; the shared kit (`handlers.routes`) → None."""
    parts = module.split(".")
    if parts[0] != "handlers" or len(parts) < 3:
        return None
    return parts[1]


def test_imports_flow_down_the_layers() -> None:
    wrong = [
        f"{module}:{line} ({layer(module)}) imports {target} ({layer(target)})"
        for module in MODULES
        for target, line in imports(module)
        if RANKS[layer(target)] > RANKS[layer(module)]
    ]
    assert wrong == []


def test_rules_and_store_know_nothing_of_slack() -> None:
    wrong = [
        f"{module}:{line} imports {name}"
        for module in MODULES
        if layer(module) in ("rules", "settings", "store") and module != "store.tables"
        for name, line in third_party(module)
        if name.startswith(NO_SLACK_BELOW)
    ]
    assert wrong == []


def test_the_slack_kit_imports_no_capability() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module in MODULES
        if module.startswith("handlers") and capability(module) is None and module != "handlers"
        for target, line in imports(module)
        if capability(target) is not None
    ]
    assert wrong == []


def test_capabilities_use_each_others_public_modules_only() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module in MODULES
        if (own := capability(module)) is not None
        for target, line in imports(module)
        if capability(target) not in (None, own)
        and target.rpartition(".")[2] not in PUBLIC_TO_OTHER_CAPABILITIES
    ]
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = {module: {target for target, _ in imports(module)} for module in MODULES}
    cycles = [sorted(component) for component in _strongly_connected(graph) if len(component) > 1]
    assert cycles == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("bot.app", "runtime"),
        ("bot.api.routes", "runtime"),
        ("bot.devtools.fake_slack", "runtime"),
        ("handlers.company.listeners", "slack"),
        ("handlers.routes", "slack"),
        ("bot.company.validation", "rules"),
        ("bot.core.errors", "rules"),
        ("bot.settings", "settings"),
        ("store.company", "store"),
    ],
)
def test_layers_are_told_apart(module: str, expected: str) -> None:
    assert layer(module) == expected


def test_a_cycle_is_found() -> None:
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}, {"d"}]
