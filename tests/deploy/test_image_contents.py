"""The container image's Python contents, built the way deploy/Dockerfile builds them: the
build stage's COPY lines read from the Dockerfile, ``pip wheel`` over that tree, the wheel
unpacked as the runtime stage installs it. ``customer-card manifest build`` from that wheel
(outside the repository) must make a valid Teams app package: the manifest template is
package data, not a file next to the source tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "manifest" / "schema" / "MicrosoftTeams.schema.json"

pytestmark = pytest.mark.slow


def _build_stage_copies() -> list[str]:
    """Sources of the build stage's ``COPY`` lines (the stage before the second FROM)."""
    lines = (ROOT / "deploy" / "Dockerfile").read_text().splitlines()
    first_from = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
    second_from = next(
        i for i, line in enumerate(lines) if line.startswith("FROM ") and i > first_from
    )
    sources: list[str] = []
    for line in lines[first_from:second_from]:
        if line.startswith("COPY ") and "--from" not in line:
            sources += line.split()[1:-1]
    return sources


@pytest.fixture(scope="module")
def image_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    context = tmp_path_factory.mktemp("build-context")
    for source in _build_stage_copies():
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(
                path, context / source, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(path, context / source)
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(context),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("*.whl")
    site = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(wheel).extractall(site)
    return site


def test_the_image_wheel_builds_a_valid_teams_package(image_site: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_CARD_")}
    env["PYTHONPATH"] = str(image_site)  # before the editable install of this checkout
    out = tmp_path / "app.zip"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "manifest",
            "build",
            "--app-id",
            "3f2a8c1e-9b7d-4e6a-8f05-1c2d3e4f5a6b",
            "--bot-domain",
            "cc.contoso.example",
            "--out",
            str(out),
        ],
        cwd=tmp_path,  # not the repository: nothing found beside the source tree
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    located = subprocess.run(
        [sys.executable, "-c", "import bot; print(bot.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert located.startswith(str(image_site)), located
    package = zipfile.ZipFile(out)
    assert sorted(package.namelist()) == ["color.png", "de.json", "manifest.json", "outline.png"]
    manifest = json.loads(package.read("manifest.json"))
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(manifest)
