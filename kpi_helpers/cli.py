"""The ``kpi-kit`` command line: one readable message and a non-zero exit on bad input,
never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from .errors import KitError


def _validate(args: argparse.Namespace) -> int:
    from .sources import open_dataset
    from .validate import exit_code, format_report, validate

    ds = open_dataset(args.source, args.mapping)
    findings = validate(ds)
    print(format_report(findings, ds.description))
    return exit_code(findings)


def _sample_data(args: argparse.Namespace) -> int:
    from .sample_data import generate

    started = time.perf_counter()
    rows = generate(
        args.out,
        seed=args.seed,
        scale=args.scale,
        months=args.months,
        messy=args.messy,
        end_month=args.end,
        fmt=args.format,
    )
    took = time.perf_counter() - started
    width = max(map(len, rows))
    for name, n in rows.items():
        print(f"  {name:<{width}}  {n:>12,} rows")
    print(
        f"Wrote {args.scale} sample data to {args.out} in {took:.1f} s"
        + (" (with known data-quality problems)" if args.messy else "")
    )
    return 0


def _month(text: str) -> str:
    import re

    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month written YYYY-MM")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpi-kit",
        description="Sales KPI report kit: validate data, compute KPIs, "
        "build monthly review packs.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "validate",
        help="check a dataset against the data contract",
        description="Exit code: 0 clean, 1 warnings only, 2 errors.",
    )
    p.add_argument(
        "--source",
        required=True,
        help="folder of CSV/Parquet files, .xlsx workbook, .duckdb file, "
        "database URL, or env:VAR holding a database URL",
    )
    p.add_argument("--mapping", help="TOML mapping file for a foreign export")
    p.set_defaults(run=_validate)

    p = sub.add_parser("sample-data", help="write a realistic sample dataset")
    p.add_argument("--out", required=True, help="folder to write (replaced if it exists)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--end", type=_month, help="last month (YYYY-MM); default: last complete")
    p.add_argument(
        "--format", choices=["csv", "parquet"], help="default: csv for small, parquet otherwise"
    )
    p.add_argument("--messy", action="store_true", help="add known data-quality problems")
    p.set_defaults(run=_sample_data)
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
        return 3
    except KeyboardInterrupt:
        print("kpi-kit: interrupted; nothing was left half-written.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
