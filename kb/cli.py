"""The `kb` command: init, serve, user, token, demo.

Every error prints one line on stderr and exits with status 2; nothing is half-written.
"""

import functools
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from kb.errors import DomainError
from kb.search.cli import reindex_command

USAGE_ERROR = 2


class CliError(click.ClickException):
    exit_code = USAGE_ERROR

    def show(self, file=None) -> None:
        click.echo(f"kb: {self.format_message()}", err=True)


def fail_cleanly(func):
    """Turn service errors into one clear stderr line and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import sqlalchemy as sa

        from kb.database import db, mark_write_transaction

        mark_write_transaction()
        try:
            return func(*args, **kwargs)
        except DomainError as error:
            db.session.rollback()
            raise CliError(error.message) from error
        except sa.exc.SQLAlchemyError as error:
            db.session.rollback()
            first_line = str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
            raise CliError(f"ошибка базы данных ({first_line}); выполнена ли `kb init`?") from error

    return wrapper


def _create_app(info: ScriptInfo | None = None) -> Flask:
    from kb import create_app

    try:
        return create_app()
    except (ValueError, OSError) as error:
        raise CliError(f"настройки не приняты: {error}") from error


@click.command("init")
@fail_cleanly
def init_command():
    """Create or upgrade the database to the newest schema (safe to run again)."""
    from kb.database import upgrade_database

    upgrade_database()
    click.echo("База данных готова.")


@click.command("serve")
@click.option("--host", default=None, help="Address to listen on (default KB_HOST).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default KB_PORT).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes (default KB_WORKERS; more than one needs KB_MESSAGE_QUEUE).",
)
def serve_command(host: str | None, port: int | None, workers: int | None):
    """Serve HTTP and Socket.IO with gunicorn's gevent worker."""
    from kb.config import build_config
    from kb.serve import run_server

    # No app in this (master) process: each worker creates its own after gevent patching.
    try:
        config = build_config()
    except (ValueError, OSError) as error:
        raise CliError(f"настройки не приняты: {error}") from error
    run_server(
        host or config["KB_HOST"],
        port or config["KB_PORT"],
        workers or config["KB_WORKERS"],
        config["KB_WORKER_CONNECTIONS"],
    )


@click.group("user")
def user_group():
    """Manage user accounts."""


@user_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Display name, e.g. «Анна Петрова».")
@click.option("--role", required=True, help="admin, editor or reader.")
@click.option("--org", "org_short_name", default=None, help="Organization short name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@fail_cleanly
def user_add_command(email, name, role, org_short_name, password_stdin):
    """Add a user account."""
    from kb.accounts import service

    service.check_role(role)
    organization = service.find_organization(org_short_name) if org_short_name else None
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("пароль не передан на стандартный вход")
    user = service.create_user(email, name, role, password, organization)
    click.echo(f"Пользователь {user.email} добавлен ({user.role}).")


@user_group.command("list")
def user_list_command():
    """List user accounts."""
    from kb.accounts import service

    for user in service.list_users():
        org = user.organization.short_name if user.organization else "-"
        state = "active" if user.active else "deactivated"
        click.echo(f"{user.email}\t{user.name}\t{user.role}\t{org}\t{state}")


@click.group("token")
def token_group():
    """Manage API tokens."""


@token_group.command("create")
@click.argument("email")
@click.option("--label", default="cli", help="A note about what the token is for.")
@fail_cleanly
def token_create_command(email, label):
    """Print a new API token for EMAIL on stdout (and nothing else)."""
    from kb.accounts import service

    user = service.get_user(email)
    if not user.active:
        raise CliError(f"пользователь {user.email} отключён")
    click.echo(service.create_token(user, label))


@click.command("demo")
@fail_cleanly
def demo_command():
    """Load the demo network once (a second run changes nothing)."""
    from kb.database import schema_is_current
    from kb.demo import load_demo

    if not schema_is_current():
        raise CliError("база данных не создана или устарела: сначала выполните `kb init`")
    result = load_demo()
    if result.created:
        click.echo("Демонстрационные данные загружены.")
    else:
        click.echo("Демонстрационные данные уже загружены, ничего не изменено.")
    click.echo(f"Вход для организатора: {result.admin_email} / {result.admin_password}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@fail_cleanly
def backup_command(path: Path):
    """Write one archive with the database (portable dump), uploads and a manifest."""
    from kb.backup import create_backup

    summary = create_backup(path)
    rows = sum(summary.tables.values())
    click.echo(f"Резервная копия {summary.path}: {rows} записей, {summary.files} файлов.")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@fail_cleanly
def restore_command(path: Path):
    """Restore an archive made by `kb backup` into an empty database and data dir."""
    from kb.backup import restore_backup
    from kb.database import upgrade_database

    upgrade_database()
    summary = restore_backup(path)
    rows = sum(summary.tables.values())
    click.echo(f"Восстановлено из {summary.path}: {rows} записей, {summary.files} файлов.")


COMMANDS = (
    init_command,
    user_group,
    token_group,
    demo_command,
    backup_command,
    restore_command,
    reindex_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


class KbGroup(FlaskGroup):
    def main(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(
                *args,
                standalone_mode=False,
                **{k: v for k, v in kwargs.items() if k != "standalone_mode"},
            )
        except click.exceptions.Abort:
            click.echo("kb: прервано", err=True)
            sys.exit(USAGE_ERROR)
        except click.ClickException as error:
            click.echo(f"kb: {error.format_message()}", err=True)
            sys.exit(USAGE_ERROR)


cli = KbGroup(
    name="kb",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Методкабинет: wiki, search and live seminar board.",
)


cli.add_command(serve_command)


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        # Patch the standard library before anything imports ssl, sockets or threads.
        from gevent import monkey

        monkey.patch_all()
    result = cli.main(prog_name="kb")
    sys.exit(result if isinstance(result, int) else 0)
