"""One line for each failure a person at the command line can fix: a bad setting names its
environment variable, a database that cannot be reached names the database (never its
password), a server that is not running says so. Anything else stays a traceback (a bug)."""

from __future__ import annotations

import httpx
import pydantic
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

__all__ = ["explain", "safe_database_url"]

_ENV_PREFIX = "CUSTOMER_CARD_"


def safe_database_url(url: str) -> str:
    """``url`` for people and logs: driver, user, host and database, the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "(not a database URL)"


def explain(error: BaseException, *, database_url: str = "") -> str | None:
    """The one line to print for ``error``, or None when it is not a user's to fix."""
    if isinstance(error, pydantic.ValidationError):
        return "; ".join(_setting_problem(problem) for problem in error.errors())
    if isinstance(error, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return (
            f"{_ENV_PREFIX}DATABASE_URL is not a usable database URL ({error}); "
            "use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db"
        )
    if isinstance(error, sa_exc.DBAPIError | OSError) and database_url:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        return f"cannot reach the database {safe_database_url(database_url)}: {reason}"
    if isinstance(error, httpx.TransportError):
        url = error.request.url if _has_request(error) else "the server"
        return f"no Customer Card server answers at {url} (is `customer-card serve` running?)"
    return None


def _setting_problem(problem: object) -> str:
    details = problem if isinstance(problem, dict) else {}
    location = details.get("loc") or ()
    name = _ENV_PREFIX + str(location[0]).upper() if location else "a setting"
    value = details.get("input")
    shown = "" if isinstance(value, dict) or _is_secret(name) else f" (got {value!r})"
    return f"{name}: {details.get('msg', 'invalid')}{shown}"


def _is_secret(name: str) -> bool:
    return any(word in name for word in ("PASSWORD", "KEY", "SECRET"))


def _has_request(error: httpx.TransportError) -> bool:
    try:
        error.request  # noqa: B018  (raises RuntimeError when the error carries none)
    except RuntimeError:
        return False
    return True
