"""Commands on the data itself: ``validate``, ``init`` (a CRM export's mapping), ``sample-data`` and
``catalog``."""

from __future__ import annotations

import argparse
import sys
import time

from .options import (
    month_text,
    read_config,
    warn_password,
)


def validate(args: argparse.Namespace) -> int:
    from kpi_helpers.data import exit_code, format_report, open_dataset, validate

    warn_password(args)
    cfg = read_config(args.config)  # its timezone: where days end, for dates in the future
    ds = open_dataset(
        args.source, args.mapping, cfg.timezone, keep_unreadable=True, database=args.database
    )
    findings = validate(ds)
    print(format_report(findings, ds.description))
    return exit_code(findings)


def init(args: argparse.Namespace) -> int:
    from kpi_helpers.data import init

    return init(args.source, args.out, force=args.force)


def sample_data(args: argparse.Namespace) -> int:
    from kpi_helpers.data.sample_data import generate

    started = time.perf_counter()
    rows = generate(
        args.out,
        seed=args.seed,
        scale=args.scale,
        months=args.months,
        messy=args.messy,
        end_month=args.end,
        fmt=args.format,
        force=args.force,
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


def catalog(args: argparse.Namespace) -> int:
    import html

    from kpi_helpers.catalog import catalog_frame

    df = catalog_frame()
    if args.format == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif args.format == "html":
        sys.stdout.write(df.to_html(index=False, escape=True))
    else:
        lines = ["| id | name | family | definition | unit | better |", "|---|---|---|---|---|---|"]
        for r in df.itertuples():
            text = r.definition if not r.alias_of else f"alias of {r.alias_of}"
            lines.append(
                f"| {r.id} | {r.name} | {r.family} | {html.escape(text)} | {r.unit} | {r.better} |"
            )
        print("\n".join(lines))
    return 0


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    """Register validate, init, sample-data, catalog on the ``kpi-kit`` parser's subcommands."""
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
    p.add_argument("--config", help="kpi.toml (its timezone: where days and months end)")
    p.add_argument("--database", help="the database of a Spark Connect --source (sc://HOST:PORT)")
    p.set_defaults(run=validate)

    p = sub.add_parser(
        "init",
        help="recognise a Salesforce or HubSpot export, write its mapping.toml and kpi.toml",
        description="Writes DIR/mapping.toml and DIR/kpi.toml from the kit's preset for the "
        "export, validates, and prints the next commands. Exit code: 0 written, 2 not "
        "recognised, files already there, or validation errors.",
    )
    p.add_argument("--source", required=True, help="the export's folder (or one file of it)")
    p.add_argument("--out", help="folder for mapping.toml and kpi.toml (default: the export's)")
    p.add_argument("--force", action="store_true", help="replace existing mapping.toml/kpi.toml")
    p.set_defaults(run=init)

    p = sub.add_parser("sample-data", help="write a realistic sample dataset")
    p.add_argument("--out", required=True, help="new or empty folder, or one it wrote")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--scale",
        choices=["small", "medium", "large", "xlarge"],
        default="small",
        help="xlarge: 4 x large, written a quarter at a time",
    )
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--end", type=month_text, help="last month (YYYY-MM); default: last complete")
    p.add_argument(
        "--format", choices=["csv", "parquet"], help="default: csv for small, parquet otherwise"
    )
    p.add_argument("--messy", action="store_true", help="add known data-quality problems")
    p.add_argument("--force", action="store_true", help="replace any --out but ., ~ and /")
    p.set_defaults(run=sample_data)

    p = sub.add_parser("catalog", help="print the KPI catalog")
    p.add_argument("--format", choices=["md", "html", "csv"], default="md")
    p.set_defaults(run=catalog)
