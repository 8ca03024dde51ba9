"""The README stays true: every setting is documented, the two set-up commands are the ones
CI runs."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    missing = [
        f"CUSTOMER_CARD_{name.upper()}"
        for name in Settings.model_fields
        if f"`CUSTOMER_CARD_{name.upper()}`" not in README
    ]
    assert not missing, f"settings missing from the README's table: {missing}"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/python -m pytest -q" in README
    assert ".venv/bin/python -m pytest -q" in ci
    assert "pip install -e '.[test]'" in README and "pip install -q -e '.[test]'" in ci


def test_ci_checks_format_lint_and_types_before_the_tests():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    steps = [
        "pip install -q -e '.[dev]'",
        ".venv/bin/ruff format --check .",
        ".venv/bin/ruff check .",
        ".venv/bin/mypy",
        ".venv/bin/python -m pytest -q",
    ]
    positions = [ci.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "CI must check before it tests"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "strict = true" in pyproject


def test_documents_the_readme_links_to_exist():
    import re

    for target in re.findall(r"\]\(((?:docs|deploy)/[^)#]*)\)", README):
        assert (ROOT / target).exists(), target
