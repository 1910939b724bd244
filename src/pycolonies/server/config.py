"""Server configuration from upstream's environment variables, overridden by explicit values
(CLI flags). Every malformed value is a ``ConfigError`` naming the variable."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from ..crypto import CryptoError, id_of

__all__ = [
    "ConfigError",
    "ServerConfig",
    "default_data_dir",
    "env_bool",
    "env_float",
    "env_int",
    "load_server_config",
    "postgres_url_from_env",
]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ConfigError(ValueError):
    """A missing or malformed configuration value."""


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    """A number of seconds (fractions allowed), at least ``minimum``."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{name}={raw.strip()} must be a number of at least {minimum:g}")
    return value


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "colonies"


@dataclass(slots=True)
class ServerConfig:
    host: str = "0.0.0.0"
    port: int = 50080
    server_id: str = ""
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    db: str = ""  # store URL; default: <data_dir>/colonies.db
    db_pool_size: int = 10  # PostgreSQL connections per server (besides three for the replica link)
    tls_cert: str = ""
    tls_key: str = ""
    allow_executor_reregister: bool = False
    stale_executor_seconds: int = 600
    cleanup_interval_seconds: int = 60
    executor_grace_seconds: int = 60  # liveness: RUNNING processes of a silent executor go back (0: off)
    cron_checker_period_ms: int = 1000
    generator_checker_period_ms: int = 1000
    retention: bool = False  # purge old successful processes and graphs, and old log lines
    retention_policy_seconds: int = 0  # their age limit; required (at least 1) with retention
    retention_interval_seconds: float = 60.0
    max_body_bytes: int = 16 * 1024 * 1024
    sqlite_synchronous: str = "NORMAL"
    build_version: str = "dev"
    build_time: str = ""

    @property
    def store_url(self) -> str:
        return self.db or str(self.data_dir / "colonies.db")

    @property
    def is_postgres(self) -> bool:
        return self.store_url.startswith(("postgres://", "postgresql://"))

    @property
    def store_label(self) -> str:
        """The store URL fit for a log line: a PostgreSQL password is masked."""
        if not self.is_postgres:
            return self.store_url
        parts = urlsplit(self.store_url)
        if parts.password is None:
            return self.store_url
        netloc = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert and self.tls_key)


def _check_id(name: str, value: str) -> str:
    if not _HEX64.match(value):
        raise ConfigError(f"{name} must be 64 lowercase hex characters, got {value!r}")
    return value


def postgres_url_from_env(env: Mapping[str, str]) -> str:
    """Upstream's database variables as a URL, when ``COLONIES_DB_TYPE`` names PostgreSQL:
    COLONIES_DB_HOST (localhost), COLONIES_DB_PORT (5432), COLONIES_DB_USER, COLONIES_DB_PASSWORD and
    COLONIES_DB_NAME (postgres). Empty for the embedded store."""
    kind = env.get("COLONIES_DB_TYPE", "").strip().lower()
    if kind in ("", "sqlite", "embedded"):
        return ""
    if kind not in ("postgresql", "postgres"):
        raise ConfigError(f"COLONIES_DB_TYPE={kind!r} must be postgresql or sqlite")
    host = env.get("COLONIES_DB_HOST") or "localhost"
    port = env_int(env, "COLONIES_DB_PORT", 5432, minimum=1)
    user = quote(env.get("COLONIES_DB_USER") or "postgres", safe="")
    password = env.get("COLONIES_DB_PASSWORD", "")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    name = quote(env.get("COLONIES_DB_NAME") or "postgres", safe="")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"postgresql://{auth}@{host}:{port}/{name}"


def load_server_config(env: Mapping[str, str] | None = None, **overrides: object) -> ServerConfig:
    """Read the environment, then apply the non-None ``overrides`` (flags win over env)."""
    env = os.environ if env is None else env
    cfg = ServerConfig(data_dir=default_data_dir(env))
    cfg.host = env.get("COLONIES_SERVER_HTTP_HOST") or cfg.host
    port_var = "COLONIES_SERVER_HTTP_PORT" if env.get("COLONIES_SERVER_HTTP_PORT") else "COLONIES_SERVER_PORT"
    cfg.port = env_int(env, port_var, cfg.port, minimum=0)
    server_id = env.get("COLONIES_SERVER_ID", "")
    prvkey = env.get("COLONIES_SERVER_PRVKEY", "")
    if not server_id and prvkey:
        try:
            server_id = id_of(prvkey)
        except CryptoError as exc:
            raise ConfigError(f"COLONIES_SERVER_PRVKEY is not a valid private key: {exc}") from None
    if server_id:
        cfg.server_id = _check_id("COLONIES_SERVER_ID", server_id)
    if env.get("COLONIES_DATA_DIR"):
        cfg.data_dir = Path(env["COLONIES_DATA_DIR"])
    cfg.db = env.get("COLONIES_DB", "") or postgres_url_from_env(env)
    cfg.db_pool_size = env_int(env, "COLONIES_DB_POOL_SIZE", cfg.db_pool_size, minimum=1)
    cfg.tls_cert = env.get("COLONIES_TLSCERT") or env.get("COLONIES_SERVER_HTTP_TLS_CERT", "")
    cfg.tls_key = env.get("COLONIES_TLSKEY") or env.get("COLONIES_SERVER_HTTP_TLS_KEY", "")
    cfg.allow_executor_reregister = env_bool(env, "COLONIES_ALLOW_EXECUTOR_REREGISTER", False)
    cfg.stale_executor_seconds = env_int(env, "COLONIES_STALE_EXECUTOR_DURATION", 600, minimum=1)
    cfg.cleanup_interval_seconds = env_int(env, "COLONIES_CLEANUP_INTERVAL", 60, minimum=1)
    cfg.executor_grace_seconds = env_int(env, "COLONIES_EXECUTOR_GRACE", cfg.executor_grace_seconds, minimum=0)
    cfg.cron_checker_period_ms = env_int(env, "COLONIES_CRON_CHECKER_PERIOD", 1000, minimum=1)
    cfg.generator_checker_period_ms = env_int(env, "COLONIES_GENERATOR_CHECKER_PERIOD", 1000, minimum=1)
    cfg.retention = env_bool(env, "COLONIES_RETENTION", False)
    cfg.retention_policy_seconds = env_int(env, "COLONIES_RETENTION_POLICY", 0, minimum=1)
    cfg.retention_interval_seconds = env_float(env, "COLONIES_RETENTION_INTERVAL", 60.0, minimum=0.01)
    cfg.max_body_bytes = env_int(env, "COLONIES_MAX_BODY_BYTES", cfg.max_body_bytes, minimum=1024)
    sync = env.get("COLONIES_SQLITE_SYNCHRONOUS", cfg.sqlite_synchronous).upper()
    if sync not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ConfigError(f"COLONIES_SQLITE_SYNCHRONOUS={sync!r} must be one of OFF, NORMAL, FULL, EXTRA")
    cfg.sqlite_synchronous = sync
    cfg.build_version = env.get("BUILD_VERSION", cfg.build_version)
    cfg.build_time = env.get("BUILD_TIME", "")
    for key, value in overrides.items():
        if value is None:
            continue
        if not hasattr(cfg, key):
            raise ConfigError(f"unknown server setting {key!r}")
        if key == "server_id":
            value = _check_id("--server-id", str(value))
        if key == "data_dir":
            value = Path(str(value))
        setattr(cfg, key, value)
    if not 0 <= cfg.port <= 65535:
        raise ConfigError(f"port {cfg.port} is out of range 0-65535")
    if cfg.retention and cfg.retention_policy_seconds < 1:
        raise ConfigError("COLONIES_RETENTION=true needs COLONIES_RETENTION_POLICY (the age limit in seconds)")
    if bool(cfg.tls_cert) != bool(cfg.tls_key):
        raise ConfigError("TLS needs both a certificate and a key (COLONIES_TLSCERT and COLONIES_TLSKEY)")
    return cfg
