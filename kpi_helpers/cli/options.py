"""What the commands share: kpi.toml and the dataset it names, their options, writing a
table to a file or standard output, the SMTP options of send and notify."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kpi_helpers.core import PERIOD_KINDS, Config, KitError, atomic_path


def read_config(path: str | None) -> Config:
    """kpi.toml read and checked whole, its ``[[alerts]]`` rules included, so a bad rule
    is an error for every command that reads the file."""
    from kpi_helpers.alerts import rules_of
    from kpi_helpers.core import load_config

    cfg = load_config(path)
    rules_of(cfg)
    return cfg


def open_data(args: argparse.Namespace, cfg: Config | None = None) -> tuple[Config, Any]:
    """kpi.toml (``--config``, unless already read as ``cfg``) and the dataset it names,
    ``--source``/``--mapping`` taking precedence: what compute, forecast, alerts and clv
    open, its months ending in kpi.toml's timezone."""
    from kpi_helpers.data import open_dataset

    cfg = cfg or read_config(args.config)
    warn_password(args, cfg)
    source, mapping = args.source or cfg.source, args.mapping or cfg.mapping or None
    return cfg, open_dataset(source, mapping, cfg.timezone, database=args.database)


def warn_password(args: argparse.Namespace, cfg: Config | None = None) -> None:
    """One line on stderr when ``--source`` (else kpi.toml's ``source``) is a database URL
    with a password (``data.password_warning``); it still connects."""
    source, given_in = args.source, ""
    if not source and cfg is not None:
        source, given_in = cfg.source, args.config or "kpi.toml"
    if "://" in str(source or ""):  # the data layer loads only for a URL
        from kpi_helpers.data import password_warning

        if note := password_warning(source, given_in):
            print(f"kpi-kit {args.command}: {note}", file=sys.stderr)


def write_frame(df, out, fmt: str) -> None:
    """Write ``df`` to ``out`` (atomically: a temporary file renamed into place) or to
    stdout."""
    if out is None:
        if fmt == "parquet":
            raise KitError("--format parquet needs --out FILE.")
        sys.stdout.write(
            df.to_json(orient="records", indent=1) + "\n"
            if fmt == "json"
            else df.to_csv(index=False)
        )
        return
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        elif fmt == "json":
            df.to_json(tmp, orient="records", indent=1)
        else:
            df.to_csv(tmp, index=False)


def period_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--period month|quarter|year`` (default month; kpi.toml's fiscal_year_start)."""
    p.add_argument("--period", choices=PERIOD_KINDS, default="month", help=what)


def jobs_option(p: argparse.ArgumentParser) -> None:
    """``--jobs``: worker processes for the forecast fits."""
    p.add_argument(
        "--jobs",
        type=int,
        help="worker processes for the forecast fits (default: the machine's cores, at most 4)",
    )


def month_text(text: str) -> str:
    import re

    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month written YYYY-MM")
    return text


def dataset_options(p: argparse.ArgumentParser, config_help: str) -> None:
    """The ``--source``, ``--mapping`` and ``--config`` options of the commands that
    open a dataset (see :func:`open_data`)."""
    p.add_argument("--source", help="dataset (default: source in kpi.toml, else data/sample)")
    p.add_argument("--mapping", help="TOML mapping file for a foreign export")
    p.add_argument("--config", help=config_help)
    p.add_argument("--database", help="the database of a Spark Connect --source (sc://HOST:PORT)")


def smtp_options(p: argparse.ArgumentParser) -> None:
    """The SMTP options send and notify share."""
    p.add_argument("--smtp", metavar="HOST:PORT", help="the SMTP server (not with --dry-run)")
    security = p.add_mutually_exclusive_group()
    security.add_argument("--starttls", action="store_true", help="upgrade with STARTTLS")
    security.add_argument("--ssl", action="store_true", help="TLS from the start (port 465)")
    p.add_argument("--user", help="login name (no login without it)")
    p.add_argument(
        "--password",
        metavar="env:VAR",
        help="the environment variable holding the password; no other form is accepted",
    )
    p.add_argument(
        "--from", dest="sender", metavar="ADDR", help="sender (default kpi-kit@<this host>)"
    )
    p.add_argument(
        "--dry-run", metavar="DIR", help="write one .eml file per message to DIR, send nothing"
    )
