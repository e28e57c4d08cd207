"""The ``backlinks`` console script.

Crawls themselves run with Scrapy's own ``scrapy crawl backlinks``; this script
holds what is not a crawl: ``backlinks demo`` serves the demo web on loopback
and crawls it, so a new user sees the whole path from pages to MongoDB to
report with one command and nothing else installed; ``backlinks check-targets``
finds broken backlinks; ``report``, ``export``, ``target``, ``disavow``, ``rank``,
``score`` and ``audit`` read the store (through ``backlinkspider.store``, the Python
API), ``serve`` shows it in a browser, ``migrate`` brings an
older store to the current form; ``backlinks status``
and ``backlinks reset`` look after a distributed crawl's Redis frontier.

Each command is a class of its own (``cli/base.py`` says how); this module
only puts them together and turns the failures users can cause into one line.
"""

from __future__ import annotations

import argparse
import os
import sys

from backlinkspider.cli.base import Command
from backlinkspider.cli.cluster import Reset, Status
from backlinkspider.cli.crawling import CheckTargets, Demo
from backlinkspider.cli.maintenance import Migrate
from backlinkspider.cli.ranking import Rank, Score
from backlinkspider.cli.reports import Audit, Disavow, Export, Report, Target
from backlinkspider.cli.serving import Serve
from backlinkspider.redact import redact

#: In the order ``backlinks --help`` lists them.
COMMANDS: tuple[type[Command], ...] = (
    Demo, CheckTargets, Report, Export, Target, Disavow, Rank, Score, Audit, Serve, Migrate, Status, Reset,
)  # fmt: skip


def parser() -> argparse.ArgumentParser:
    """The whole command line: one subparser per command, its options its own."""
    top = argparse.ArgumentParser(
        prog="backlinks",
        description="backlinkspider: your own backlink index. Crawl with "
        "`scrapy crawl backlinks -a seeds=URL[,URL…] -a targets=DOMAIN[,DOMAIN…]`.",
    )
    sub = top.add_subparsers(dest="command", required=True)
    for cls in COMMANDS:
        command = cls()
        p = sub.add_parser(command.name, parents=command.parents(), help=command.help, description=command.description)
        command.add_options(p)
        p.set_defaults(command_object=command, command_parser=p)
    return top


def _server_error(server: str, args: argparse.Namespace, exc: Exception) -> str:
    """One line for a server's failure; a refused password names the server (password masked)."""
    from backlinkspider import credentials
    from backlinkspider.cli.base import settings

    if not credentials.refused(exc):
        return f"{server}: {redact(str(exc))}"
    found = settings(args)
    url = found.get("MONGO_URI") if server == "MongoDB" else credentials.redis_url(found)
    return credentials.describe(server, url or "", exc)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command: Command = args.command_object
    command.check(args.command_parser, args)
    from pymongo.errors import PyMongoError
    from redis.exceptions import RedisError

    try:
        return command.run(args)
    except PyMongoError as exc:  # unreachable server, bad credentials: say so, no traceback
        print(f"backlinks {args.command}: {_server_error('MongoDB', args, exc)}", file=sys.stderr)
        return 1
    except RedisError as exc:  # status, reset: unreachable Redis, a wrong password
        print(f"backlinks {args.command}: {_server_error('Redis', args, exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `backlinks export … | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 1
    except OSError as exc:  # -o into a missing directory, an unreadable --domains file
        print(f"backlinks {args.command}: {redact(str(exc))}", file=sys.stderr)
        return 1
