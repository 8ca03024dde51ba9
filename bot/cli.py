"""``customer-card``: serve, db upgrade, simulate, config, memorialization, manifest, --version."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from .cli_errors import explain
from .observability.logs import configure_logging
from .settings import Settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from .app import package_version

    parser = argparse.ArgumentParser(prog="customer-card", description=__doc__)
    parser.add_argument("--version", action="version", version=package_version())
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the service")
    serve.add_argument("--host", default=None, help="default: CUSTOMER_CARD_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: 3978")
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="processes sharing the port; default: CUSTOMER_CARD_WORKERS or 1",
    )
    # how the parent of ``--workers N`` starts each of its children (bot.workers)
    serve.add_argument("--worker-of", default=None, help=argparse.SUPPRESS)
    serve.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)

    db = commands.add_parser("db", help="database commands")
    db.add_argument("action", choices=["upgrade"])

    simulate = commands.add_parser("simulate", help="post interaction events to a server")
    simulate.add_argument("--url", default="http://127.0.0.1:3978", help="server base URL")
    simulate.add_argument("--api-key", default=None, help="default: first CUSTOMER_CARD_API_KEYS")
    kinds = simulate.add_subparsers(dest="kind", required=True)
    for kind, target in (("call", "number"), ("chat", "email")):
        sub = kinds.add_parser(
            kind, help=f"start a {'voice' if kind == 'call' else 'digital'} interaction"
        )
        sub.add_argument(target)
        sub.add_argument("--agent-email", default=None)
        sub.add_argument("--agent-aad", default=None)
        sub.add_argument("--agent-teams-id", default=None)
        sub.add_argument("--agent-name", default="Agent")
        sub.add_argument("--interaction-id", default=None)
        sub.add_argument("--configuration-id", default=None)
    end = kinds.add_parser("end", help="end an interaction")
    end.add_argument("interaction_id")
    end.add_argument("--ended-by", choices=["contact", "agent"], default="contact")

    from . import config_cli, teams_package
    from .memorialization import cli as memorialization_cli

    config_cli.add_commands(commands)
    memorialization_cli.add_commands(commands)
    teams_package.add_commands(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _event(args: argparse.Namespace) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    if args.kind == "end":
        return {
            "type": "ended",
            "eventId": f"cli-{uuid.uuid4().hex}",
            "interactionId": args.interaction_id,
            "endedBy": args.ended_by,
            "occurredAt": now,
        }
    agent = {"id": args.agent_email or args.agent_teams_id or "agent", "name": args.agent_name}
    for key, value in (
        ("email", args.agent_email),
        ("aadObjectId", args.agent_aad),
        ("teamsUserId", args.agent_teams_id),
    ):
        if value:
            agent[key] = value
    interaction_id = args.interaction_id or f"cli-{uuid.uuid4().hex[:12]}"
    voice = args.kind == "call"
    event: dict[str, object] = {
        "type": "started",
        "eventId": f"cli-{uuid.uuid4().hex}",
        "interactionId": interaction_id,
        "contactId": interaction_id,
        "channel": "voice" if voice else "digital",
        "agent": agent,
        "occurredAt": now,
        "data": {"ANI": args.number} if voice else {"From": args.email},
    }
    if args.configuration_id:
        event["configurationId"] = args.configuration_id
    return event


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    key = args.api_key or next((k.get_secret_value() for k in settings.api_keys), "")
    if not key:
        print("No API key: pass --api-key or set CUSTOMER_CARD_API_KEYS", file=sys.stderr)
        return 2
    response = httpx.post(
        f"{args.url.rstrip('/')}/api/v1/interactions/events",
        json=_event(args),
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code < 300 else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = Settings()
        configure_logging(settings.log_format, settings.log_level)
        return _run(args, settings)
    except Exception as error:  # one line for what a person can fix; a bug stays a traceback
        database_url = settings.effective_database_url if settings else ""
        line = explain(error, database_url=database_url)
        if line is None:
            raise
        print(f"customer-card: {line}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "db":
        from .storage.db import upgrade_database

        asyncio.run(upgrade_database(settings.effective_database_url))
        print("Database is up to date.")
        return 0
    if args.command == "simulate":
        return _simulate(args, settings)
    if args.command == "config":
        from . import config_cli

        return config_cli.run(args, settings)
    if args.command == "manifest":
        return int(args.handler(args))
    if args.command == "memorialization":
        return int(args.handler(args, settings))
    return _serve(args, settings)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from . import heap, workers
    from .app import create_app, package_version

    host, port = args.host or settings.host, args.port or settings.port
    if args.worker_of:
        return workers.serve_worker(
            settings, host, port, workers.WorkerSlot.parse(args.worker_of), args.ready_fd
        )
    count = args.workers or settings.workers
    log = logging.getLogger("bot.cli")
    log.info(
        "Customer Card %s starting%s", package_version(), f": {count} workers" if count > 1 else ""
    )
    if not (settings.admin_api_keys or settings.console_oidc):
        log.info("The admin console (/admin/) opens once CUSTOMER_CARD_ADMIN_API_KEYS is set")
    if count > 1:
        return workers.supervise(settings, host, port, count)
    app = create_app(settings)
    app.on_startup.append(heap.settle)
    # aiohttp "prints" its banner once the port is bound: the listening line comes last
    web.run_app(app, host=host, port=port, print=lambda _: workers.log_listening(host, port))
    log.info("Customer Card stopped")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
