"""crm/'s module-level imports form no cycle and go down its layers (docs/architecture.md,
"crm/"): the seam and shared helpers know no adapter and no configuration; the integration
model knows no adapter (it gets each type's settings model through the registry); each vendor
package stands alone, and inside it query/settings/wire/batch -> connection -> metadata ->
timeline -> adapter (a vendor has the ones it needs). crm/ imports nothing from bot/ or
cards/, not even inside a function. Every package's ``__init__`` says what it exports
(``__all__``), and each exported name exists."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from .import_graph import ROOT, cycles, import_graph

SEAM = ("crm.errors", "crm.models", "crm.protocol", "crm.settings", "crm.registry")
HELPERS = ("crm.http", "crm.tokens", "crm.phone", "crm.activity_text")
INTEGRATION = (
    "crm.config",
    "crm.mappings",
    "crm.secrets",
    "crm.startup",
    "crm.validation",
    "crm.workflows",
    "crm.workflow_request",
    "crm.workflow_result",
    "crm.interaction_data",
)
VENDOR_LOWER = ("query", "settings", "wire", "batch")  # pure: import no VENDOR_IO module
VENDOR_IO = ("connection", "metadata", "timeline", "adapter")  # each imports only earlier ones


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _vendor_upward(module: list[str], target: list[str]) -> bool:
    """Whether a vendor package's module (its name inside the package, [] for the package)
    imports a module of the same package above it."""
    if not module or not target or target[0] not in VENDOR_IO:
        return False
    if module[0] in VENDOR_LOWER:
        return True
    return module[0] in VENDOR_IO and VENDOR_IO.index(target[0]) > VENDOR_IO.index(module[0])


def _offences(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in graph.items():
        for target in targets:
            if _under(module, SEAM + HELPERS) and not _under(target, SEAM + HELPERS):
                found.append(f"{module} -> {target}")
            elif _under(module, INTEGRATION) and _under(target, ("crm.adapters", "crm.demo")):
                found.append(f"{module} -> {target}")
            elif module.startswith("crm.adapters.") and target.startswith("crm.adapters."):
                vendor, inner = module.split(".")[2], module.split(".")[3:]
                if target.split(".")[2] != vendor:
                    found.append(f"{module} -> {target}")
                elif _vendor_upward(inner[:1], target.split(".")[3:4]):
                    found.append(f"{module} -> {target}")
            if _under(module, ("crm.adapters", "crm.demo")) and _under(target, INTEGRATION):
                found.append(f"{module} -> {target}")
            if module.startswith("crm.demo") and target.startswith("crm.adapters"):
                found.append(f"{module} -> {target}")
    return sorted(found)


def test_crm_has_no_import_cycle() -> None:
    assert cycles(import_graph("crm")) == []


def test_crm_imports_go_down_its_layers() -> None:
    assert _offences(import_graph("crm")) == []


def test_the_layer_check_finds_an_upward_import() -> None:
    graph = {
        "crm.http": {"crm.errors", "crm.config"},
        "crm.adapters.oracle.wire": {"crm.adapters.oracle.connection"},
        "crm.adapters.oracle.adapter": {"crm.adapters.zendesk.wire"},
        "crm.demo.adapter": {"crm.workflows"},
        "crm.adapters.dynamics.batch": {
            "crm.adapters.dynamics.wire",
            "crm.adapters.dynamics.timeline",
        },
        "crm.adapters.dynamics.metadata": {
            "crm.adapters.dynamics.connection",
            "crm.adapters.dynamics.timeline",
        },
        "crm.adapters.dynamics.connection": {"crm.adapters.dynamics.adapter"},
    }
    assert _offences(graph) == [
        "crm.adapters.dynamics.batch -> crm.adapters.dynamics.timeline",
        "crm.adapters.dynamics.connection -> crm.adapters.dynamics.adapter",
        "crm.adapters.dynamics.metadata -> crm.adapters.dynamics.timeline",
        "crm.adapters.oracle.adapter -> crm.adapters.zendesk.wire",
        "crm.adapters.oracle.wire -> crm.adapters.oracle.connection",
        "crm.demo.adapter -> crm.workflows",
        "crm.http -> crm.config",
    ]


def test_crm_imports_nothing_from_bot_or_cards() -> None:
    found = []
    for path in (ROOT / "crm").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if _under(n, ("bot", "cards"))
            ]
    assert found == []


PACKAGES = sorted(
    ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "crm").rglob("__init__.py")
)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_exports_its_names(package: str) -> None:
    module = importlib.import_module(package)
    assert isinstance(module.__dict__.get("__all__"), list), f"{package} has no __all__"
    assert [name for name in module.__all__ if not hasattr(module, name)] == []


def test_no_crm_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "crm").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


def test_every_vendor_module_has_a_layer() -> None:
    """A module the layer lists do not name would escape the layer check."""
    root = Path(__file__).resolve().parents[2] / "crm" / "adapters"
    unnamed = sorted(
        str(path.relative_to(root))
        for path in root.glob("*/*.py")
        if path.stem not in (*VENDOR_LOWER, *VENDOR_IO, "__init__")
    )
    assert unnamed == []
