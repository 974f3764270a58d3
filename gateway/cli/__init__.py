"""The `gateway` command line: one readable line and a non-zero exit on every error, no traceback."""

from __future__ import annotations

import sys

import click

from gateway import __version__
from gateway.cli.db import db
from gateway.cli.demo import demo
from gateway.cli.keys import keys
from gateway.cli.plugins import plugins
from gateway.cli.serve import serve
from gateway.cli.sync import sync
from gateway.cli.users import user
from gateway.cli.worker import worker
from gateway.core.errors import GatewayError, reason_of


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gateway")
@click.option("--debug", is_flag=True, help="Show the full traceback of an unexpected error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """TimeTracker Gateway: time entries that land as worklogs in ticket systems.

    Configuration comes from environment variables (DATABASE_URL, REDIS_URL, GATEWAY_SECRET_KEYS, …);
    see the README.
    """
    ctx.obj = {"debug": debug}


for command in (db, demo, keys, plugins, serve, sync, user, worker):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = cli.main(args=args, prog_name="gateway", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except GatewayError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if "--debug" in args:
            raise
        click.echo(f"error: unexpected {type(exc).__name__}: {reason_of(exc)} (run with --debug for details)", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
