"""The Teams app package: built from manifest/, valid against Microsoft's official schema."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from bot.teams_package import PackageOptions, build_package

SCHEMA_DIR = Path(__file__).parent / "schema"
APP_ID = "6f1d7c52-2a7e-4a53-9b1e-0f6f3d2f9a10"


def _schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color_type = struct.unpack(">IIBB", data[16:26])
    assert (depth, color_type) == (8, 6), "icons are 8-bit RGBA"
    idat = b""
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    pixels = []
    for row in range(height):
        assert raw[row * stride] == 0  # filter type none
        line = raw[row * stride + 1 : (row + 1) * stride]
        pixels += [tuple(line[i : i + 4]) for i in range(0, len(line), 4)]
    return width, height, pixels


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("pkg") / "app.zip"
    build_package(PackageOptions(app_id=APP_ID, bot_domain="cc.contoso.example"), out)
    return zipfile.ZipFile(out)


def test_package_holds_manifest_localization_and_icons(package):
    assert sorted(package.namelist()) == ["color.png", "de.json", "manifest.json", "outline.png"]


def test_manifest_is_valid_against_the_official_schema(package):
    manifest = json.loads(package.read("manifest.json"))
    jsonschema.Draft4Validator(_schema("MicrosoftTeams.schema.json")).validate(manifest)
    assert manifest["manifestVersion"] == "1.30"
    assert "${" not in json.dumps(manifest)


def test_german_localization_is_valid(package):
    de = json.loads(package.read("de.json"))
    jsonschema.Draft4Validator(_schema("MicrosoftTeams.Localization.schema.json")).validate(de)
    manifest = json.loads(package.read("manifest.json"))
    assert manifest["localizationInfo"]["additionalLanguages"] == [
        {"languageTag": "de-de", "file": "de.json"}
    ]
    assert de["name.short"] == "Customer Card"


def test_bot_is_personal_with_commands_and_search_extension(package):
    manifest = json.loads(package.read("manifest.json"))
    (bot,) = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == ["help", "whoami", "search"]
    (extension,) = manifest["composeExtensions"]
    (command,) = extension["commands"]
    assert command["type"] == "query" and command["parameters"][0]["name"] == "query"
    assert manifest["validDomains"] == ["cc.contoso.example"]
    assert manifest["webApplicationInfo"]["id"] == APP_ID


def test_icons_have_teams_sizes_and_outline_is_white_on_transparent(package):
    width, height, pixels = _png_pixels(package.read("color.png"))
    assert (width, height) == (192, 192)
    assert all(alpha == 255 for *_, alpha in pixels)
    width, height, pixels = _png_pixels(package.read("outline.png"))
    assert (width, height) == (32, 32)
    visible = [p for p in pixels if p[3] > 0]
    assert visible and len(visible) < len(pixels)
    assert all(p[:3] == (255, 255, 255) for p in visible)


@pytest.mark.parametrize(
    "app_id, domain, message",
    [
        ("not-a-guid", "cc.example.com", "GUID"),
        (APP_ID, "https://cc.example.com/api", "host name"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(tmp_path, app_id, domain, message):
    with pytest.raises(ValueError, match=message):
        build_package(PackageOptions(app_id=app_id, bot_domain=domain), tmp_path / "x.zip")
