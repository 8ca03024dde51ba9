"""Builds the Teams app package (manifest.json, de.json, two icons, zipped) from ``manifest/``.

``customer-card manifest build --app-id ... --bot-domain ...`` calls ``build_package``. The
icons are drawn here in code (no image files to license): a white customer card on the
accent colour, and its white outline on transparent.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PackageOptions",
    "render_manifest",
    "build_package",
    "draw_color_icon",
    "draw_outline_icon",
    "add_commands",
]

# ``bot/teams_manifest`` links to the repository's ``manifest/``, so the files ship in the
# wheel (and the container image) as package data and are found the same way from source.
SOURCE_DIR = Path(__file__).resolve().parent / "teams_manifest"
ACCENT = (0x2B, 0x57, 0x97)
_PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")


@dataclass(frozen=True)
class PackageOptions:
    app_id: str  # the Microsoft App ID of the bot (a GUID)
    bot_domain: str  # host name Teams reaches the service at, e.g. cc.example.com
    version: str = "1.0.0"
    developer_name: str = "Customer Card for Teams"
    website_url: str = "https://github.com/customer-card/customer-card"
    privacy_url: str = "https://github.com/customer-card/customer-card/blob/main/PRIVACY.md"
    terms_url: str = "https://github.com/customer-card/customer-card/blob/main/LICENSE"
    teams_app_id: str = ""  # the Teams app's own id; default: derived from app_id

    def values(self) -> dict[str, str]:
        try:
            uuid.UUID(self.app_id)
        except ValueError as exc:
            raise ValueError(
                f"--app-id must be the bot's Microsoft App ID (a GUID), got {self.app_id!r}"
            ) from exc
        domain = self.bot_domain.strip().removeprefix("https://").rstrip("/")
        if not domain or "/" in domain or " " in domain:
            raise ValueError(
                f"--bot-domain must be a host name such as cc.example.com, got {self.bot_domain!r}"
            )
        teams_id = self.teams_app_id or str(uuid.uuid5(uuid.UUID(self.app_id), "teams-app"))
        return {
            "APP_ID": teams_id,
            "BOT_ID": self.app_id,
            "BOT_DOMAIN": domain,
            "VERSION": self.version,
            "DEVELOPER_NAME": self.developer_name,
            "WEBSITE_URL": self.website_url,
            "PRIVACY_URL": self.privacy_url,
            "TERMS_URL": self.terms_url,
        }


def render_manifest(options: PackageOptions, source_dir: Path = SOURCE_DIR) -> dict:  # type: ignore[type-arg]
    """The manifest with every ``${NAME}`` placeholder filled in."""
    values = options.values()
    template = (source_dir / "manifest.template.json").read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        return json.dumps(values[match.group(1)])[1:-1]

    manifest: dict = json.loads(_PLACEHOLDER.sub(fill, template))  # type: ignore[type-arg]
    return manifest


def build_package(options: PackageOptions, out: Path, source_dir: Path = SOURCE_DIR) -> Path:
    """Write the app package zip to ``out`` and return its path."""
    manifest = render_manifest(options, source_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr("de.json", (source_dir / "de.json").read_text(encoding="utf-8"))
        package.writestr("color.png", draw_color_icon())
        package.writestr("outline.png", draw_outline_icon())
    return out


# --- icons ------------------------------------------------------------------------------

Pixel = tuple[int, int, int, int]


def _png(size: int, paint: Callable[[int, int], Pixel]) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(struct.pack("BBBB", *paint(x, y)) for x in range(size))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _in_rounded_rect(
    x: float, y: float, x0: float, y0: float, x1: float, y1: float, r: float
) -> bool:
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def _card_shape(size: int, x: int, y: int) -> str:
    """'card', 'head' (person's head), 'body' (shoulders), 'line' (text lines) or ''."""
    s = size / 192
    px, py = x + 0.5, y + 0.5
    if not _in_rounded_rect(px, py, 28 * s, 48 * s, 164 * s, 144 * s, 12 * s):
        return ""
    if (px - 66 * s) ** 2 + (py - 80 * s) ** 2 <= (14 * s) ** 2:
        return "head"
    if _in_rounded_rect(px, py, 44 * s, 98 * s, 88 * s, 124 * s, 12 * s) and py <= 124 * s:
        return "body"
    for top in (74, 92, 110):
        if _in_rounded_rect(px, py, 100 * s, top * s, 148 * s, (top + 8) * s, 4 * s):
            return "line"
    return "card"


def draw_color_icon() -> bytes:
    """192x192: a white contact card with a person and text lines on the accent colour."""

    def paint(x: int, y: int) -> Pixel:
        shape = _card_shape(192, x, y)
        if shape in ("head", "body", "line"):
            return (*ACCENT, 255)
        if shape == "card":
            return (255, 255, 255, 255)
        return (*ACCENT, 255)

    return _png(192, paint)


def draw_outline_icon() -> bytes:
    """32x32: the card's outline and the person in white on a transparent background."""

    def paint(x: int, y: int) -> Pixel:
        px, py = x + 0.5, y + 0.5
        outer = _in_rounded_rect(px, py, 2, 7, 30, 25, 3)
        inner = _in_rounded_rect(px, py, 4, 9, 28, 23, 2)
        person = (px - 11) ** 2 + (py - 14) ** 2 <= 2.6**2 or (
            _in_rounded_rect(px, py, 7, 17.5, 15, 21, 1.5)
        )
        line = any(
            _in_rounded_rect(px, py, 17.5, top, 25.5, top + 1.8, 0.9) for top in (12.5, 15.5, 18.5)
        )
        if (outer and not inner) or person or line:
            return (255, 255, 255, 255)
        return (255, 255, 255, 0)

    return _png(32, paint)


# --- CLI --------------------------------------------------------------------------------


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    manifest = subparsers.add_parser("manifest", help="Teams app package")
    actions = manifest.add_subparsers(dest="manifest_command", required=True)
    build = actions.add_parser("build", help="write the Teams app package zip")
    build.add_argument(
        "--app-id", help="the bot's Microsoft App ID (default: CUSTOMER_CARD_APP_ID)"
    )
    build.add_argument(
        "--bot-domain",
        help="host name of the service (default: the host of CUSTOMER_CARD_PUBLIC_URL)",
    )
    build.add_argument("--version", dest="package_version", default="1.0.0")
    build.add_argument("--out", default="out/customer-card-teams.zip")
    build.set_defaults(handler=_build_command)


def _build_command(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from .settings import Settings

    settings = Settings()
    app_id = args.app_id or settings.app_id
    domain = args.bot_domain or urlsplit(settings.public_url).hostname or ""
    if not app_id or not domain:
        print(
            "manifest build: give --app-id and --bot-domain (or set CUSTOMER_CARD_APP_ID "
            "and CUSTOMER_CARD_PUBLIC_URL)"
        )
        return 2
    try:
        path = build_package(
            PackageOptions(app_id=app_id, bot_domain=domain, version=args.package_version),
            Path(args.out),
        )
    except ValueError as exc:
        print(f"manifest build: {exc}")
        return 2
    print(f"wrote {path} (sideload it in Teams: Apps > Manage your apps > Upload an app)")
    return 0
