"""``customer-card config apply|export|test``: the integration model as files in git.

``apply FILE.yaml`` makes the database match the file: configurations are matched by ``id``
(or by ``name`` when the file gives none), their mappings and workflows likewise within the
configuration. It prints the difference and changes only what differs, so a second run
prints "No changes." A section a configuration leaves out (``workflows`` say) is not
managed; ``--prune`` deletes what a managed section (or the file) does not list. Secrets not
named in the file keep their stored value; ``export`` therefore writes references
(``env:NAME``) and leaves literal secrets out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import ValidationError

from crm.config import Configuration, ConfigurationInput
from crm.errors import AppError, ConfigError, error_field

from .api.inputs import check_json_value
from .audit import acting_as
from .configurations import ChildName, ConfigurationStore
from .connectors import ConnectorStore
from .connectors.config_file import apply_connectors, export_connectors
from .crm_directory import CrmDirectory
from .settings import Settings

__all__ = ["add_commands", "run", "main", "apply_file", "export_all", "test_configuration"]

# file key -> store kind
SECTIONS: dict[str, ChildName] = {
    "memorializationMappings": "memorialization",
    "dynamicDataMappings": "dynamic",
    "workflows": "workflow",
}
_LABELS = {
    "memorialization": "memorialization mapping",
    "dynamic": "dynamic data mapping",
    "workflow": "workflow",
}


def add_commands(subparsers: Any) -> None:
    """Add ``config apply|export|test`` to the ``customer-card`` argument parser."""
    config = subparsers.add_parser("config", help="CRM configurations, mappings, workflows")
    actions = config.add_subparsers(dest="config_command", required=True)
    apply = actions.add_parser("apply", help="make the configuration match a YAML file")
    apply.add_argument("file", type=Path)
    apply.add_argument("--dry-run", action="store_true", help="print the difference only")
    apply.add_argument(
        "--prune",
        action="store_true",
        help="delete configurations, mappings and workflows the file omits",
    )
    export = actions.add_parser("export", help="print every configuration as YAML")
    export.add_argument("--output", "-o", type=Path, default=None)
    test = actions.add_parser("test", help="check a configuration's credentials and reach")
    test.add_argument("configuration_id")
    config.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the ``config`` command ``args`` describes; the exit status."""
    with acting_as("cli"):  # the audit trail's actor
        return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from .storage.db import create_engine, session_factory, upgrade_database

    url = settings.effective_database_url
    await upgrade_database(url)
    engine = create_engine(url)
    http = httpx.AsyncClient(timeout=settings.crm_timeout_seconds)
    directory = CrmDirectory(session_factory(engine), settings, http)
    store = ConfigurationStore(session_factory(engine), directory)
    connectors = ConnectorStore(session_factory(engine), directory.secret_box)
    try:
        if args.config_command == "apply":
            lines = await apply_file(
                store, args.file, dry_run=args.dry_run, prune=args.prune, connectors=connectors
            )
            print("\n".join(lines))
        elif args.config_command == "export":
            text = await export_all(store, connectors)
            if args.output:
                args.output.write_text(text)
            else:
                print(text, end="")
        else:
            print(await test_configuration(store, args.configuration_id))
        return 0
    except AppError as exc:
        print(f"error: {exc.detail or exc.code}", file=sys.stderr)
        return 1
    finally:
        await directory.aclose()
        await http.aclose()
        await engine.dispose()


# --- apply ----------------------------------------------------------------------------


@dataclass
class _Plan:
    dry_run: bool
    lines: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.lines.append(line)


def _load(path: Path) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """The file's configurations, and its connectors (None: no ``connectors:`` section)."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})", code="file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})", code="file") from None
    check_json_value(document)  # NUL characters, lone surrogates, numbers past 64 bits
    if not isinstance(document, dict) or set(document) - {"configurations", "connectors"}:
        raise ConfigError(
            f"{path}: the file holds 'configurations' and 'connectors' (lists)", code="file"
        )
    items = document.get("configurations") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{path}: 'configurations' must be a list of objects", code="file")
    connectors = document.get("connectors")
    if "connectors" in document and not isinstance(connectors or [], list):
        raise ConfigError(f"{path}: 'connectors' must be a list of objects", code="file")
    return items, (connectors or []) if "connectors" in document else None


def _parse_configuration(index: int, entry: dict[str, Any]) -> ConfigurationInput:
    try:
        return ConfigurationInput.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = f"configurations[{index}].{error_field(first, entry)}"
        raise ConfigError(
            f"{where}: {first['msg'].removeprefix('Value error, ')}",
            code="invalid_field",
            field=where,
        ) from None


async def apply_file(
    store: ConfigurationStore,
    path: Path,
    *,
    dry_run: bool = False,
    prune: bool = False,
    connectors: ConnectorStore | None = None,
) -> list[str]:
    """Make the store match the file; the lines describing what changed (or would).
    Connectors (a ``connectors:`` section) are applied after the configurations they name."""
    entries, connector_entries = _load(path)
    plan = _Plan(dry_run)
    # a file that fails half-way changes nothing
    async with store.all_or_nothing() if not dry_run else contextlib.nullcontext():
        await _apply_entries(store, plan, entries, prune=prune)
    if connectors is not None and connector_entries is not None:
        plan.lines += await apply_connectors(
            connectors, connector_entries, dry_run=dry_run, prune=prune
        )
    if not plan.lines:
        return ["No changes."]
    count = len(plan.lines)
    tail = "(dry run: nothing was changed)" if dry_run else f"{count} change(s) applied."
    return [*plan.lines, tail]


async def _apply_entries(
    store: ConfigurationStore, plan: _Plan, entries: list[dict[str, Any]], *, prune: bool
) -> None:
    dry_run = plan.dry_run
    existing = await store.list_configurations()
    kept: set[str] = set()
    for index, raw in enumerate(entries):
        entry = dict(raw)
        sections = {key: entry.pop(key) for key in list(entry) if key in SECTIONS}
        body = _parse_configuration(index, entry)
        # mappings before workflows: a memorialization workflow names its mapping
        children = {
            kind: [store.children.parse(kind, item) for item in (sections[key] or [])]
            for key, kind in SECTIONS.items()
            if key in sections
        }
        current = _match_configuration(existing, body)
        config_id = await _apply_configuration(store, plan, body, current)
        kept.add(config_id or "")
        for kind, models in children.items():
            await _apply_children(
                store, plan, config_id, kind, models, prune=prune, new=current is None
            )
    if prune:
        for config in existing:
            if config.id not in kept:
                plan.say(f'- configuration {config.id} ({config.type}) "{config.name}"')
                if not dry_run:
                    await store.delete(config.id)


def _match_configuration(
    existing: list[Configuration], body: ConfigurationInput
) -> Configuration | None:
    if body.id:
        return next((c for c in existing if c.id == body.id), None)
    named = [c for c in existing if c.name == body.name]
    if len(named) > 1:
        raise ConfigError(
            f"name: several configurations are called '{body.name}'; give the id in the file",
            code="ambiguous_name",
            field="name",
        )
    return named[0] if named else None


async def _apply_configuration(
    store: ConfigurationStore, plan: _Plan, body: ConfigurationInput, current: Configuration | None
) -> str | None:
    if current is None:
        plan.say(f'+ configuration {body.id or "(new id)"} ({body.type}) "{body.name}"')
        if plan.dry_run:
            return body.id
        return (await store.create(body)).id
    changes = await _configuration_changes(store, body, current)
    if changes:
        plan.say(f"~ configuration {current.id}: {', '.join(changes)}")
        if not plan.dry_run:
            await store.replace(current.id, body.model_copy(update={"id": current.id}))
    return current.id


async def _configuration_changes(
    store: ConfigurationStore, body: ConfigurationInput, current: Configuration
) -> list[str]:
    changes = [
        name
        for name, mine, theirs in (
            ("name", body.name, current.name),
            ("description", body.description, current.description),
            ("status", body.status, current.status),
            ("isDefault", body.is_default, current.is_default),
            ("type", body.type, current.type),
        )
        if mine != theirs
    ]
    desired = store.checked_settings(body.type, body.settings)
    for key in sorted(set(desired) | set(current.settings)):
        if desired.get(key) != current.settings.get(key):
            changes.append(f"settings.{key}")
    steps = [s.model_dump(by_alias=True) for s in body.startup] if body.startup else None
    theirs = [s.model_dump(by_alias=True) for s in current.startup] if current.startup else None
    if steps != theirs:
        changes.append("startup")
    for name, value in sorted(body.secrets.items()):
        if value is None:
            if name in current.secrets:
                changes.append(f"secrets.{name} (removed)")
        elif not await store.secret_matches(current.id, name, value):
            changes.append(f"secrets.{name}")
    return changes


async def _apply_children(
    store: ConfigurationStore,
    plan: _Plan,
    config_id: str | None,
    kind: ChildName,
    models: list[Any],
    *,
    prune: bool,
    new: bool,
) -> None:
    label = _LABELS[kind]
    owner = config_id or "(new)"
    existing = (
        []
        if config_id is None or (new and plan.dry_run)
        else await store.children.list(kind, config_id)
    )
    matched: set[str] = set()
    for model in models:
        current = next((m for m in existing if model.id and m.id == model.id), None) or next(
            (m for m in existing if not model.id and m.name == model.name and m.id not in matched),
            None,
        )
        if current is None:
            plan.say(f'+ {owner}: {label} "{model.name}"')
            if not plan.dry_run and config_id is not None:
                await store.children.create(kind, config_id, model)
            continue
        matched.add(current.id)
        model.id = current.id
        mine = model.model_dump(mode="json", by_alias=True)
        theirs = current.model_dump(mode="json", by_alias=True)
        changed = sorted(key for key in set(mine) | set(theirs) if mine.get(key) != theirs.get(key))
        if changed:
            plan.say(f'~ {owner}: {label} "{model.name}": {", ".join(changed)}')
            if not plan.dry_run and config_id is not None:
                await store.children.replace(kind, config_id, current.id, model)
    if prune and config_id is not None:
        for current in existing:
            if current.id not in matched:
                plan.say(f'- {owner}: {label} "{current.name}"')
                if not plan.dry_run:
                    await store.children.delete(kind, config_id, current.id)


# --- export and test ------------------------------------------------------------------


async def export_all(store: ConfigurationStore, connectors: ConnectorStore | None = None) -> str:
    """Every configuration in the ``apply`` file format. Literal secrets are left out (they
    keep their stored value when the file is applied); references are written."""
    omitted: list[str] = []
    configurations: list[dict[str, Any]] = []
    for config in await store.list_configurations():
        entry: dict[str, Any] = {
            "id": config.id,
            "name": config.name,
            "description": config.description,
            "type": config.type,
            "status": config.status,
            "isDefault": config.is_default,
            "settings": config.settings,
        }
        references = {
            name: status.reference for name, status in config.secrets.items() if status.reference
        }
        omitted += [
            f"{config.id}.{name}" for name, status in config.secrets.items() if not status.reference
        ]
        if references:
            entry["secrets"] = references
        if config.startup is not None:
            entry["startup"] = [s.model_dump(mode="json", by_alias=True) for s in config.startup]
        for key, kind in SECTIONS.items():
            entry[key] = [
                m.model_dump(mode="json", by_alias=True)
                for m in await store.children.list(kind, config.id)
            ]
        configurations.append(entry)
    document: dict[str, Any] = {"configurations": configurations}
    if connectors is not None:
        entries, left_out = await export_connectors(connectors)
        if entries:  # a file without the section leaves connectors as they are
            document["connectors"] = entries
        omitted += left_out
    header = "# customer-card configuration export\n"
    if omitted:
        header += (
            "# literal secrets are not exported (they stay as stored): " + ", ".join(omitted) + "\n"
        )
    dumped: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return header + dumped


async def test_configuration(store: ConfigurationStore, configuration_id: str) -> str:
    result = await store.test(configuration_id)
    lines = [
        f"OK: configuration {configuration_id} ({result['type']}) reached the CRM; "
        f"{result['recordTypes']} record types readable."
    ]
    lines += [f"WARNING: {warning}" for warning in result["warnings"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.config_cli config ...``: the commands without the rest of the CLI."""
    parser = argparse.ArgumentParser(prog="customer-card")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run(args, Settings())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
