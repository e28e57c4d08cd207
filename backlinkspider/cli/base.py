"""What every ``backlinks`` command is built from: the ``Command`` class, the
options several commands share (declared once), and their common helpers.

Commands are classes in the manner of Scrapy's own (``scrapy.commands``):
each names itself, declares its options beside its code and runs on the
parsed arguments. Plain argparse, the standard library's, so the console
script needs nothing Scrapy users do not already have.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, ClassVar, TextIO

if TYPE_CHECKING:
    from pymongo.database import Database
    from scrapy.settings import Settings


class Command:
    """One subcommand of ``backlinks``.

    ``name``, ``help`` (the line in ``backlinks --help``) and ``description``
    (the text of ``backlinks NAME --help``); ``parents``, shared option groups
    built by the functions below; ``add_options`` for its own; ``run`` does it
    and returns the exit status.
    """

    name: ClassVar[str]
    help: ClassVar[str]
    description: ClassVar[str]

    def parents(self) -> list[argparse.ArgumentParser]:
        return []

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's own arguments and options."""

    def check(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        """Refuse arguments argparse alone cannot judge (``parser.error``)."""

    def run(self, args: argparse.Namespace) -> int:
        raise NotImplementedError


# --- Options several commands share ------------------------------------------------


def store_options() -> argparse.ArgumentParser:
    """``--mongo-uri`` and ``--database``: the commands that read the store."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--mongo-uri",
        help="MongoDB to read (default: the MONGO_URI setting or environment variable; empty = the embedded server)",
    )
    parser.add_argument("--database", help="database (default: MONGO_DATABASE, else backlinks)")
    return parser


def cluster_options() -> argparse.ArgumentParser:
    """``--redis-url`` and ``--crawl``: the commands that look after a distributed crawl."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--redis-url", help="Redis of the distributed crawl (default: the REDIS_URL setting or environment variable)"
    )
    parser.add_argument("--crawl", default="backlinks", help="key prefix, the spider name (default: backlinks)")
    return parser


def output_option(parser: argparse.ArgumentParser) -> None:
    """``-o/--output``: the commands that write a file."""
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")


def log_level_option(parser: argparse.ArgumentParser, default: str) -> None:
    """``--log-level``: the commands that crawl."""
    parser.add_argument("--log-level", default=default, help=f"Scrapy log level (default: {default})")


def domain_argument(
    parser: argparse.ArgumentParser, help: str = "a registered domain (a host or URL is reduced to it)"
) -> None:
    parser.add_argument("domain", metavar="DOMAIN", help=help)


# --- Argument types ----------------------------------------------------------------


def commas(*values: str) -> list[str]:
    """The comma-separated items of option values, stripped, empty ones dropped, each once, in order."""
    return list(dict.fromkeys(v.strip() for value in values for v in value.split(",") if v.strip()))


def positive(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def non_negative(text: str) -> int:
    """An argparse type: a whole number of 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


# --- Helpers -------------------------------------------------------------------------


def settings(args: argparse.Namespace) -> Settings:
    """The project's settings, with what the command line says about Redis and MongoDB."""
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "backlinkspider.settings")
    found = get_project_settings()
    for option, name in (("redis_url", "REDIS_URL"), ("mongo_uri", "MONGO_URI"), ("database", "MONGO_DATABASE")):
        if getattr(args, option, None):
            found.set(name, getattr(args, option), priority="cmdline")
    return found


def open_store(args: argparse.Namespace) -> AbstractContextManager[Database]:
    """The database of MONGO_URI/MONGO_DATABASE (or --mongo-uri/--database), as a ``with`` block."""
    from backlinkspider import store

    return store.database(settings(args))


def domain(raw: str) -> str:
    """The registered domain a user meant by ``raw`` (a domain, host or URL)."""
    from backlinkspider.urls import domain_of

    found = domain_of(raw)
    if not found:
        raise SystemExit(f"backlinks: {raw!r} is not a domain")
    return found


def output(path: str | None) -> TextIO:
    """A text stream for ``-o PATH`` (UTF-8, no newline translation), or standard output."""
    if not path or path == "-":
        return open(sys.stdout.fileno(), "w", encoding="utf-8", newline="", closefd=False)
    return open(path, "w", encoding="utf-8", newline="")
