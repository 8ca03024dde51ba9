"""bot/'s module-level imports (``TYPE_CHECKING`` ones included) form no cycle and go down
the layers: api/teams -> interactions -> storage (docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

from .import_graph import cycles, import_graph

# package prefix -> prefixes its modules must not import (the layers above it)
_ABOVE = {
    "bot.storage": (
        "bot.api",
        "bot.teams",
        "bot.interactions",
        "bot.memorialization",
        "bot.services",
        "bot.startup",
        "bot.app",
    ),
    "bot.interactions": ("bot.api", "bot.teams", "bot.services", "bot.startup", "bot.app"),
    **{
        f"bot.memorialization.{module}": (
            "bot.api",
            "bot.teams",
            "bot.services",
            "bot.startup",
            "bot.app",
        )
        # the durable writer's parts (api and setup stand above the services)
        for module in (
            "worker",
            "job_writer",
            "outcome_writer",
            "metadata_cache",
            "leases",
            "jobs",
            "outbox",
            "job_admin",
        )
    },
    "bot.teams": ("bot.api", "bot.services", "bot.startup", "bot.app"),
    "bot.connectors": ("bot.api", "bot.teams", "bot.services", "bot.startup", "bot.app"),
    "bot.services": ("bot.api", "bot.startup", "bot.app"),
}


def test_bot_has_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles in bot/ (see python -m tests.architecture.import_graph)"


def test_imports_go_down_the_layers() -> None:
    graph = import_graph()
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for prefix, above in _ABOVE.items()
        if module == prefix or module.startswith(prefix + ".")
        for target in targets
        if any(target == a or target.startswith(a + ".") for a in above)
    )
    assert upward == []


def test_a_cycle_is_found_also_through_type_checking_and_packages(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .b import B\n")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub.b import B\n"
    )
    (package / "sub" / "b.py").write_text("B = 1\n")
    (package / "c.py").write_text("def late():\n    from . import a\n")  # inside a function
    graph = import_graph("pkg", tmp_path)
    assert graph["pkg.a"] == {"pkg.sub", "pkg.sub.b"}
    assert graph["pkg.c"] == set()
    assert cycles(graph) == []
    (package / "sub" / "b.py").write_text("from .. import a\nB = 1\n")
    assert cycles(import_graph("pkg", tmp_path)) == [["pkg.a", "pkg.sub", "pkg.sub.b"]]
