"""The ``kpi-kit`` command line: one readable message and a non-zero exit on bad input,
never a traceback.

Each command imports the layers it needs inside its function (``explore``: its light
``explore.lab``), so ``kpi-kit --help`` and a mistyped option load no Ibis, Jupyter or
matplotlib (tests/test_layers.py holds ``import kpi_helpers.cli`` to that). Nothing else
imports the kit inside a function, but a page without a snapshot (``report.notebook``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kpi_helpers.core import KitError

from .data_commands import add_data_commands
from .kpi_commands import add_kpi_commands
from .publish_commands import add_publish_commands

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpi-kit",
        description="Sales KPI report kit: validate data, compute KPIs, "
        "build monthly review packs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    add_data_commands(sub)  # validate, init, sample-data, catalog
    add_kpi_commands(sub)  # compute, explain, forecast, alerts, clv
    add_publish_commands(sub)  # pack, notebooks, explore, send, notify
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KitError as exc:
        print(f"kpi-kit {args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the last line of defence: one message, never a traceback
        if os.environ.get("KPI_KIT_DEBUG"):
            raise
        print(
            f"kpi-kit {args.command}: unexpected error: {type(exc).__name__}: {exc}. "
            "Set KPI_KIT_DEBUG=1 to see the traceback and please report it.",
            file=sys.stderr,
        )
        return 1  # not 3: that means "alerts fired" (kpi-kit alerts)
    except KeyboardInterrupt:
        print("kpi-kit: interrupted; nothing was left half-written.", file=sys.stderr)
        return 130
