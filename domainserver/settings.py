"""Server settings that are not policy, from one place: the `[server]` table of a settings
file, environment variables for the usual ones, and command-line flags, in rising order of
precedence. Validated like the permissions file: every problem with its file, line, dotted
key and a hint, or the variable it came from."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from permissions import Checker, PolicyError, Problem

from .config import ServerConfig

__all__ = [
    "SETTINGS", "Setting", "Settings", "configured", "load_settings", "SettingsError", "describe",
]

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA", "OFF")


@attrs.frozen
class Setting:
    """One setting: its `[server]` key, default, environment variable and meaning."""

    key: str
    kind: str  # "str" | "path" | "int" | "number" | "bool" | a choice tuple as "a|b|c"
    default: Any
    help: str
    env: str | None = None
    minimum: float = 0

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.kind.split("|")) if "|" in self.kind else ()


_D = ServerConfig()
SETTINGS: tuple[Setting, ...] = (
    Setting("host", "str", "127.0.0.1", "address to listen on; 127.0.0.1 admits only this "
            "machine (use 0.0.0.0, or a proxy, for remote visitors)", "DOMAINSERVER_HOST"),
    Setting("port", "int", 8080, "TCP port to listen on", "DOMAINSERVER_PORT", minimum=1),
    Setting("database", "path", _D.db_path, "the SQLite database (made if missing)",
            "DOMAINSERVER_DB"),
    Setting("permissions", "path", None, "the permissions file; none: the embedded open "
            "sandbox", "DOMAINSERVER_PERMISSIONS"),
    Setting("log_level", "|".join(LOG_LEVELS), "info", "least severe level logged",
            "DOMAINSERVER_LOG_LEVEL"),
    Setting("log_format", "|".join(LOG_FORMATS), "text", "text lines, or one JSON object "
            "per line for log collectors", "DOMAINSERVER_LOG_FORMAT"),
    Setting("access_log", "bool", False, "log every HTTP request (aiohttp's access log)"),
    Setting("max_frame", "int", _D.max_frame, "largest viewer frame in bytes; larger ones "
            "get too_large", minimum=1024),
    Setting("max_inflight", "int", _D.max_inflight, "requests one connection may have "
            "awaiting commit before its socket is read no further", minimum=1),
    Setting("hello_timeout", "number", _D.hello_timeout, "seconds a connection has to say "
            "hello", minimum=0.001),
    Setting("synchronous", "|".join(SYNCHRONOUS), _D.synchronous, "SQLite durability: FULL "
            "survives power loss, NORMAL only a crash of the server"),
    Setting("world_snapshot", "bool", _D.world_snapshot, "at a clean stop, write the world "
            "beside the database (<database>.snapshot) so the next start reads it instead of "
            "every row"),
    Setting("watch_interval", "number", _D.watch_interval, "seconds between checks of the "
            "permissions file for changes", minimum=0.001),
    Setting("shutdown_timeout", "number", _D.shutdown_timeout, "seconds viewers get to answer "
            "the 1001 close at shutdown", minimum=0),
    # The room log and reports (docs/EVIDENCE.md).
    Setting("checkpoint_every", "int", _D.checkpoint_every, "room-log records between signed "
            "checkpoints", minimum=1),
    Setting("checkpoint_seconds", "number", _D.checkpoint_seconds, "seconds at most between "
            "signed checkpoints while records are written", minimum=0.01),
    Setting("log_chat", "bool", _D.log_chat, "record say and entity_say in the room log",
            "DOMAINSERVER_LOG_CHAT"),
    Setting("log_rez", "bool", _D.log_rez, "record rezzes and removals in the room log",
            "DOMAINSERVER_LOG_REZ"),
    Setting("report_before", "int", _D.report_before, "room-log records a report captures "
            "before the reported moment"),
    Setting("report_after", "int", _D.report_after, "and after it"),
    Setting("max_open_reports", "int", _D.max_open_reports, "open reports per reporter",
            minimum=1),
    Setting("report_rate", "number", _D.report_rate, "reports a second per reporter",
            minimum=0.0001),
    Setting("retention", "str", ",".join(f"{k}={v:g}" for k, v in _D.retention),
            "seconds each kind of room-log record keeps its content, as kind=seconds,... "
            "(never: kind=never)"),
    Setting("retention_default", "number", None, "seconds for the kinds `retention` does not "
            "name (none: for ever)", minimum=1),
    Setting("retention_interval", "number", _D.retention_interval, "seconds between purges",
            minimum=1),
    # What one visitor, one connection or one address may cost (docs/RELIABILITY.md).
    Setting("max_look_radius", "number", _D.max_look_radius, "largest `look` radius in "
            "metres", minimum=0.001),
    Setting("read_budget", "number", _D.read_budget, "entities a token's reads may examine "
            "or return a second", minimum=1),
    Setting("max_mutes", "int", _D.max_mutes, "mutes per token", minimum=1),
    Setting("max_pending_bytes", "int", _D.max_pending_bytes, "bytes queued for a viewer "
            "whose socket is full before it is closed (1008)", minimum=1024),
    Setting("max_connections", "int", _D.max_connections, "viewer connections in all",
            minimum=1),
    Setting("max_connections_per_address", "int", _D.max_connections_per_address,
            "viewer connections from one address", minimum=1),
    Setting("hellos_per_second_per_address", "number", _D.hellos_per_second_per_address,
            "new viewer connections a second from one address", minimum=0.001),
    Setting("max_frames_per_second", "number", _D.max_frames_per_second, "frames a second "
            "one connection may send before it is read more slowly", minimum=1),
    Setting("limit_loopback", "bool", _D.limit_loopback, "apply the per-address limits to "
            "loopback too (off: a local proxy or load test is not limited)"),
    Setting("trusted_proxies", "str", None, "comma-separated addresses of reverse proxies "
            "whose X-Forwarded-For names the client's address"),
)
_BY_KEY = {s.key: s for s in SETTINGS}
_CONFIG_FIELDS = {
    "database": "db_path",
    "permissions": "permissions_path",
    "max_frame": "max_frame",
    "max_inflight": "max_inflight",
    "hello_timeout": "hello_timeout",
    "synchronous": "synchronous",
    "world_snapshot": "world_snapshot",
    "watch_interval": "watch_interval",
    "shutdown_timeout": "shutdown_timeout",
    "checkpoint_every": "checkpoint_every",
    "checkpoint_seconds": "checkpoint_seconds",
    "log_chat": "log_chat",
    "log_rez": "log_rez",
    "report_before": "report_before",
    "report_after": "report_after",
    "max_open_reports": "max_open_reports",
    "report_rate": "report_rate",
    "retention": "retention",
    "retention_default": "retention_default",
    "retention_interval": "retention_interval",
    "max_look_radius": "max_look_radius",
    "read_budget": "read_budget",
    "max_mutes": "max_mutes",
    "max_pending_bytes": "max_pending_bytes",
    "max_connections": "max_connections",
    "max_connections_per_address": "max_connections_per_address",
    "hellos_per_second_per_address": "hellos_per_second_per_address",
    "max_frames_per_second": "max_frames_per_second",
    "limit_loopback": "limit_loopback",
    "trusted_proxies": "trusted_proxies",
}
CONFIG_ENV = "DOMAINSERVER_CONFIG"


class SettingsError(PolicyError):
    """Settings refused; `problems` lists every reason, each located."""


@attrs.frozen
class Settings:
    """Everything `serve` needs, frozen: the server's config plus how to listen and log."""

    config: ServerConfig
    host: str
    port: int
    log_level: str
    log_format: str
    access_log: bool
    sources: Mapping[str, str]  # key -> where its value came from

    @property
    def remote_visitors(self) -> bool:
        return self.host not in ("127.0.0.1", "localhost", "::1")


def _retention(text: str, source: str) -> tuple[tuple[str, float | None], ...]:
    """`kind=seconds,...` (or `kind=never`) as ServerConfig.retention."""
    out: list[tuple[str, float | None]] = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        kind, _, raw = part.partition("=")
        try:
            keep = None if raw.strip() == "never" else float(raw)
            if keep is not None and not keep > 0:
                raise ValueError
        except ValueError:
            raise SettingsError([Problem(source, 1, f"server.retention: {part!r}: want "
                                         "kind=seconds or kind=never")]) from None
        out.append((kind.strip(), keep))
    return tuple(out)


def describe(setting: Setting) -> str:
    """A setting's line of `serve --help`: meaning, default, and where else it is set."""
    default = "none" if setting.default is None else str(setting.default).lower()
    if setting.kind in ("str", "path", "int", "number"):
        default = "none" if setting.default is None else str(setting.default)
    where = f"env {setting.env}, " if setting.env else ""
    return f"{setting.help} (default: {default}; {where}[server] {setting.key})"


def configured(field: str, given: Any, config_file: str | None = None) -> Any:
    """`given` when a flag gave it; else the server's `field` (of ServerConfig) as its
    settings file and environment set it, for commands that act on a server's files
    without running it. SettingsError when those are read and are wrong."""
    if given is not None:
        return given
    return getattr(load_settings(config_file=config_file).config, field)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> Settings:
    """Defaults, then the settings file (`config_file`, else $DOMAINSERVER_CONFIG), then the
    environment, then `flags` (keys of SETTINGS; None means not given). SettingsError lists
    every problem found in all of them."""
    environ = os.environ if environ is None else environ
    flags = flags or {}
    values: dict[str, Any] = {s.key: s.default for s in SETTINGS}
    sources = {s.key: "default" for s in SETTINGS}
    problems: list[Problem] = []
    path = config_file or environ.get(CONFIG_ENV) or None
    if path:
        from_file, file_problems = _read_file(path)
        problems += file_problems
        values.update(from_file)
        sources.update({k: path for k in from_file})
    for setting in SETTINGS:
        raw = environ.get(setting.env) if setting.env else None
        if raw is None or raw == "":
            continue
        value, reason = _from_text(setting, raw)
        if reason:
            problems.append(Problem(f"environment {setting.env}", 1, f"{raw!r}: {reason}"))
        else:
            values[setting.key], sources[setting.key] = value, setting.env or ""
    for key, value in flags.items():
        if value is not None:
            values[key], sources[key] = value, "command line"
    if problems:
        raise SettingsError(problems)
    proxies = values["trusted_proxies"] or ""
    values["trusted_proxies"] = tuple(p.strip() for p in proxies.split(",") if p.strip())
    values["retention"] = _retention(values["retention"], sources["retention"])
    config = attrs.evolve(
        ServerConfig(), **{field: values[key] for key, field in _CONFIG_FIELDS.items()}
    )
    return Settings(
        config=config,
        host=values["host"],
        port=values["port"],
        log_level=values["log_level"],
        log_format=values["log_format"],
        access_log=values["access_log"],
        sources=sources,
    )


def _read_file(path: str) -> tuple[dict[str, Any], list[Problem]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return {}, [Problem(path, 1, f"cannot read the settings file: {reason}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return {}, [Problem(path, getattr(exc, "lineno", 1) or 1, f"TOML syntax: {exc}")]
    c = Checker(text, path)
    c.known_keys(data, (), ("server",))
    table = c.table(data["server"], ("server",)) if "server" in data else {}
    table = table or {}
    c.known_keys(table, ("server",), tuple(_BY_KEY))
    out: dict[str, Any] = {}
    base = Path(path).resolve().parent
    for key in table:
        setting = _BY_KEY.get(key)
        if setting is None:
            continue
        got = _typed(c, setting, table, key)
        if got is None:
            continue
        if setting.kind == "path":
            got = str(base / got)  # relative to the settings file, as its reader expects
        out[key] = got
    return out, c.problems()


def _typed(c: Checker, setting: Setting, table: dict[str, Any], key: str) -> Any:
    where = ("server",)
    if setting.choices:
        return c.choice(table, key, where, setting.choices)
    if setting.kind == "bool":
        return c.boolean(table, key, where)
    if setting.kind in ("str", "path"):
        got = c.string(table, key, where)
        if got is not None and not got:
            c.problem(where + (key,), "must not be empty")
            return None
        return got
    if setting.kind == "int":
        got = c.integer(table, key, where, minimum=int(setting.minimum))
        if got is not None and key == "port" and got > 65535:
            c.problem(where + (key,), f"must be a port from 1 to 65535, got {got}")
            return None
        return got
    got = c.number(table, key, where, positive=setting.minimum > 0)
    if got is not None and got < setting.minimum:
        c.problem(where + (key,), f"must be >= {setting.minimum}")
        return None
    return got


def _from_text(setting: Setting, raw: str) -> tuple[Any, str]:
    """An environment variable's value, or ("", reason)."""
    if setting.choices:
        value = raw.upper() if setting.key == "synchronous" else raw.lower()
        if value in setting.choices:
            return value, ""
        return None, "must be one of " + ", ".join(setting.choices)
    if setting.kind == "int":
        try:
            value = int(raw)
        except ValueError:
            return None, "must be a whole number"
        if value < setting.minimum or (setting.key == "port" and value > 65535):
            return None, "must be a port from 1 to 65535" if setting.key == "port" else (
                f"must be >= {int(setting.minimum)}"
            )
        return value, ""
    return raw, ""
