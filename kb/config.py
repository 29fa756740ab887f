"""Configuration from environment variables (all documented in README.md)."""

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from kb.urls import check_base_url, trusted_hosts

TRUE_WORDS = {"1", "true", "yes", "on", "да"}


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in TRUE_WORDS


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {value!r}") from exc


def load_secret_key(data_dir: Path) -> str:
    """Return KB_SECRET_KEY, or a key generated once and kept in the data dir."""
    configured = os.environ.get("KB_SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def build_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    data_dir = Path(overrides.get("KB_DATA_DIR") or os.environ.get("KB_DATA_DIR") or "./var")
    data_dir = data_dir.resolve()
    upload_dir = Path(os.environ.get("KB_UPLOAD_DIR") or data_dir / "uploads").resolve()
    for folder in (data_dir, data_dir / "index", upload_dir):
        folder.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("KB_DATABASE_URL") or f"sqlite:///{data_dir / 'kb.sqlite3'}"
    config: dict[str, Any] = {
        "KB_DATA_DIR": data_dir,
        "KB_INDEX_DIR": data_dir / "index",
        "KB_UPLOAD_DIR": upload_dir,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "KB_MESSAGE_QUEUE": os.environ.get("KB_MESSAGE_QUEUE") or None,
        "KB_HOST": os.environ.get("KB_HOST", "127.0.0.1"),
        "KB_PORT": env_int("KB_PORT", 5000),
        "KB_PUBLIC_READ": env_flag("KB_PUBLIC_READ", True),
        "KB_MAX_UPLOAD_MB": env_int("KB_MAX_UPLOAD_MB", 20),
        "KB_NETWORK_NAME": os.environ.get("KB_NETWORK_NAME", "Методкабинет"),
        # Failed sign-ins allowed from one client address (see KB_PROXIES behind nginx).
        "KB_LOGIN_LIMIT": os.environ.get("KB_LOGIN_LIMIT", "10 per minute"),
        # Failed sign-ins of one account before each further attempt waits 2^n seconds.
        "KB_LOGIN_DELAY_AFTER": env_int("KB_LOGIN_DELAY_AFTER", 5),
        # Reverse proxies in front of kb serve whose X-Forwarded-For/-Proto are trusted.
        "KB_PROXIES": env_int("KB_PROXIES", 0),
        # The site's address for links in e-mails, feeds, calendars, QR codes (kb.urls).
        "KB_BASE_URL": os.environ.get("KB_BASE_URL") or None,
        "KB_TRUSTED_HOSTS": os.environ.get("KB_TRUSTED_HOSTS") or None,
        "KB_REMEMBER_DAYS": env_int("KB_REMEMBER_DAYS", 30),
        "KB_SECURE_COOKIES": env_flag("KB_SECURE_COOKIES", False),
        "KB_WORKERS": env_int("KB_WORKERS", 1),
        "KB_WORKER_CONNECTIONS": env_int("KB_WORKER_CONNECTIONS", 4000),
        "KB_BOARD_POSTS_PER_MINUTE": env_int("KB_BOARD_POSTS_PER_MINUTE", 10),
        "KB_BOARD_MAX_PARTICIPANTS": env_int("KB_BOARD_MAX_PARTICIPANTS", 2000),
        "KB_BOARD_JOINS_PER_MINUTE": env_int("KB_BOARD_JOINS_PER_MINUTE", 100),
        "KB_BOARD_JOINS_PER_HOUR": env_int("KB_BOARD_JOINS_PER_HOUR", 300),
        "KB_BOARD_LIKES_PER_MINUTE": env_int("KB_BOARD_LIKES_PER_MINUTE", 60),
        "KB_SURVEY_RESPONSES_PER_HOUR": env_int("KB_SURVEY_RESPONSES_PER_HOUR", 30),
        "KB_PAGE_CACHE_MB": env_int("KB_PAGE_CACHE_MB", 16),
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("KB_TIMEZONE", "Europe/Moscow"),
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked in kb.security, skipped for Bearer tokens
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "RATELIMIT_HEADERS_ENABLED": True,
        # A rate-limit storage (Redis) that is down must not refuse sign-ins: the limits are
        # skipped and logged; failed sign-ins per account are counted in the database anyway.
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Shared by all processes: the message queue's Redis unless configured otherwise.
        "RATELIMIT_STORAGE_URI": os.environ.get("KB_RATELIMIT_STORAGE")
        or os.environ.get("KB_MESSAGE_QUEUE")
        or "memory://",
        "JSON_SORT_KEYS": False,
    }
    config.update(overrides)
    config["KB_DATA_DIR"] = data_dir
    config["MAX_CONTENT_LENGTH"] = int(config["KB_MAX_UPLOAD_MB"]) * 1024 * 1024 + 64 * 1024
    config["KB_BASE_URL"] = check_base_url(config.get("KB_BASE_URL"))
    if "TRUSTED_HOSTS" not in overrides:  # with a base URL, other Host headers get 400
        config["TRUSTED_HOSTS"] = trusted_hosts(config["KB_BASE_URL"], config["KB_TRUSTED_HOSTS"])
    config["SESSION_COOKIE_SECURE"] = config["KB_SECURE_COOKIES"]
    config["REMEMBER_COOKIE_SECURE"] = config["KB_SECURE_COOKIES"]
    config["REMEMBER_COOKIE_DURATION"] = timedelta(days=int(config["KB_REMEMBER_DAYS"]))
    if "SECRET_KEY" not in config:
        config["SECRET_KEY"] = load_secret_key(config["KB_DATA_DIR"])
    return config
