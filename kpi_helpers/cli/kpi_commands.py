"""Commands that compute: ``compute`` (the tidy table), ``explain`` (why a KPI moved),
``forecast``, ``alerts`` and ``clv``."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from kpi_helpers.core import KitError, write_text

from .options import (
    dataset_options,
    jobs_option,
    open_data,
    period_option,
    read_config,
    write_frame,
)


def compute(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from kpi_helpers.metrics import profiling

    cfg, ds = open_data(args)
    with profiling() if args.profile else nullcontext() as prof:
        compute_into(args, cfg, ds)
    if prof is not None:
        print(prof.report(), file=sys.stderr)
    return 0


def compute_into(args: argparse.Namespace, cfg, ds) -> None:
    """What ``kpi-kit compute`` writes: the tidy table, and the table KPIs with --tables."""
    from pathlib import Path

    import pandas as pd

    from kpi_helpers import kpis
    from kpi_helpers.catalog import select
    from kpi_helpers.data import month_asked

    ids = [i for group in args.kpi or [] for i in group.split(",") if i]
    families = [f for group in args.family or [] for f in group.split(",") if f]
    chosen = select(ids or None, families or None)
    args.month = str(month_asked(ds, args.month))
    scalars = [k.id for k in chosen if not k.is_table]
    from kpi_helpers.models import fit_jobs

    with fit_jobs(args.jobs):
        df = (
            kpis.compute(
                ds,
                args.month,
                months=args.periods,
                scope=args.scope,
                kpis=scalars,
                config=cfg,
                period=args.period,
            )
            if scalars
            else pd.DataFrame(columns=kpis.TIDY_COLUMNS)
        )
    write_frame(df, args.out, args.format)
    if args.tables:
        out = Path(args.tables)
        out.mkdir(parents=True, exist_ok=True)
        scope = args.scope if ":" in args.scope else "company"
        for k in (k for k in chosen if k.is_table):
            try:
                table = kpis.table(ds, k.id, args.month, scope, cfg, period=args.period)
            except KitError as exc:
                print(f"kpi-kit compute: {k.id}: {exc}", file=sys.stderr)
                continue
            write_frame(table, out / f"{k.id}.{args.format}", args.format)


def explain(args: argparse.Namespace) -> int:
    from kpi_helpers.catalog import get
    from kpi_helpers.core.files import write_text
    from kpi_helpers.drivers import explain, rendered

    cfg, ds = open_data(args)
    dims = [d for d in args.dimensions.split(",") if d] if args.dimensions else None
    e = explain(ds, args.kpi, args.scope, args.month, args.vs, dims, cfg, period=args.period)
    text = rendered(e, get(e.kpi), args.format, cfg.currency)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_text(args.out, text)
    return 0


def forecast(args: argparse.Namespace) -> int:
    from kpi_helpers.models import fit_jobs, forecast_kpi

    cfg, ds = open_data(args)
    if args.period != "month":
        from kpi_helpers.models import period_forecast

        with fit_jobs(args.jobs):
            df = period_forecast(ds, args.kpi, args.month, args.period, args.scope, cfg)
        if args.format == "text":
            args.format = "csv"  # one row: the period's sum, its interval from summed paths
        write_frame(df, args.out, args.format)
        return 0
    with fit_jobs(args.jobs):
        df = forecast_kpi(ds, args.kpi, args.month, args.scope, args.horizon, cfg)
    if args.format == "text":
        text = forecast_text(df)
        if args.out is None:
            print(text)
        else:
            write_text(args.out, text + "\n")
        return 0
    write_frame(df, args.out, args.format)
    return 0


def forecast_text(df) -> str:
    """The forecast as a table, then how its interval was made and its track record."""
    from kpi_helpers.catalog import track_record_text

    shown = df[["month", "forecast", "lower", "upper", "interval"]].round(2)
    lines = [shown.to_string(index=False), f"method: {df['method'].iloc[0]}"]
    lines.append("interval: " + ", ".join(dict.fromkeys(df["interval"])))
    first = df.iloc[0]
    track = track_record_text(first["track_held"], first["track_origins"], first["track_mape"])
    if track:
        lines.append(f"track record: {track}")
    return "\n".join(lines)


def alerts(args: argparse.Namespace) -> int:
    import json

    from kpi_helpers import alerts
    from kpi_helpers.data import check_month, month_asked, period_with_data

    cfg = read_config(args.config)
    rules = alerts.rules_of(cfg)
    if not rules:
        where = args.config or "a kpi.toml (pass it with --config)"
        raise KitError(
            f"No alert rules in {where}: add one [[alerts]] table per rule, e.g.\n"
            '  [[alerts]]\n  kpi = "win_rate"\n  scope = "team:*"\n  below = 20'
        )
    _, ds = open_data(args, cfg)
    month = month_asked(ds, args.month)
    check_month(ds, month)
    label = str(month)
    if args.period != "month":  # the period holding --month, through its last month with data
        span = period_with_data(ds, month, args.period, cfg.fiscal_year_start)
        month, label = span.through, span.label + (f" {span.status}" if span.status else "")
    found = alerts.check_dataset(ds, rules, str(month), cfg, period=args.period)
    if args.format == "json":
        print(json.dumps([a.as_dict() for a in found.alerts], indent=1, ensure_ascii=False))
        for note in found.notes:
            print(f"kpi-kit alerts: note: {note}", file=sys.stderr)
    else:
        print(alerts.format_text(found, label, len(rules)))
    return 3 if found.alerts else 0


def clv(args: argparse.Namespace) -> int:
    from kpi_helpers.models import fit_clv, format_summary, write_result

    cfg, ds = open_data(args)
    if args.fit:  # over kpi.toml's clv_fit
        cfg = dataclasses.replace(cfg, clv_fit=args.fit)
    result = fit_clv(ds, args.month, args.scope, cfg)
    text = write_result(result, args.format, args.out)
    if text is None:  # written to --out: the summary, with the notes, on the terminal
        print(format_summary(result, cfg.currency) + f"\nWrote {args.out}")
        return 0
    sys.stdout.write(text)
    for note in result.notes:
        print(f"kpi-kit clv: note: {note}", file=sys.stderr)
    return 0


def add_kpi_commands(sub: argparse._SubParsersAction) -> None:
    """Register compute, explain, forecast, alerts, clv on the ``kpi-kit`` parser's subcommands."""
    p = sub.add_parser("compute", help="compute KPIs into a tidy table")
    dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument(
        "--month",
        required=True,
        help="last month: YYYY-MM, latest (in the data) or previous (last complete month)",
    )
    period_option(
        p, "month, fiscal quarter or fiscal year (kpi.toml's fiscal_year_start; default month)"
    )
    p.add_argument(
        "--periods",
        "--months",
        dest="periods",
        type=int,
        default=1,
        help="how many periods ending with the one holding --month (--months: the same)",
    )
    p.add_argument(
        "--scope",
        default="company",
        help="company, team, rep, all, team:NAME or rep:ID (default company)",
    )
    p.add_argument("--kpi", action="append", help="KPI id (repeat or comma-separate)")
    p.add_argument("--family", action="append", help="KPI family (repeat or comma-separate)")
    p.add_argument("--format", choices=["csv", "json", "parquet"], default="csv")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.add_argument("--tables", help="folder for the table KPIs, one file each")
    jobs_option(p)
    p.add_argument(
        "--profile",
        action="store_true",
        help="print the seconds per measure source and per query (slowest first) on stderr",
    )
    p.set_defaults(run=compute)

    p = sub.add_parser("explain", help="why a KPI moved: its exact drivers (team, product...)")
    dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument("--month", required=True, help="YYYY-MM, latest or previous")
    p.add_argument("--kpi", required=True, help="KPI id, e.g. monthly_sales_bookings")
    p.add_argument("--scope", default="company", help="company, team:NAME or rep:ID")
    p.add_argument("--vs", choices=["previous", "year", "target"], default="previous")
    period_option(p, "quarter or year: the period holding --month against the one before")
    p.add_argument("--dimensions", help="comma-separated, e.g. team,product (default: all)")
    p.add_argument("--format", choices=["text", "json", "csv"], default="text")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(run=explain)

    p = sub.add_parser(
        "forecast",
        help="forecast a KPI's next months (ETS, 80%% interval)",
        description="One row per future month: month, forecast, lower, upper, method.",
    )
    dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument(
        "--month", required=True, help="last month of history: YYYY-MM, latest or previous"
    )
    p.add_argument("--kpi", required=True, help="KPI id, e.g. sales_revenue")
    p.add_argument("--scope", default="company", help="company, team:NAME or rep:ID")
    p.add_argument("--horizon", type=int, default=3, help="months ahead (default 3)")
    period_option(p, "quarter or year: the next one's total, its interval from summed paths")
    p.add_argument("--format", choices=["csv", "json", "parquet", "text"], default="csv")
    p.add_argument("--out", help="file to write (default: standard output)")
    jobs_option(p)
    p.set_defaults(run=forecast)

    p = sub.add_parser(
        "alerts",
        help="check the [[alerts]] rules of kpi.toml for a month",
        description="One line per alert that fired (or a JSON list), then a count. Exit "
        "code: 0 nothing fired, 3 alerts fired, 2 a problem to fix (bad rule, no rules).",
    )
    dataset_options(p, "kpi.toml holding the [[alerts]] rules")
    p.add_argument(
        "--month", required=True, help="YYYY-MM, latest (in the data) or previous (last complete)"
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    period_option(p, "quarter or year: the rules read the period holding --month")
    p.set_defaults(run=alerts)

    p = sub.add_parser("clv", help="fit predictive CLV (BG/NBD + Gamma-Gamma) for one scope")
    dataset_options(p, "kpi.toml (clv_discount_rate, default 0.01 a month)")
    p.add_argument("--month", required=True, help="calibration ends with this month: YYYY-MM")
    p.add_argument("--scope", default="company", help="company, team:NAME or rep:ID")
    p.add_argument(
        "--fit",
        choices=["company", "scope"],
        help="a team or rep: the company fit's predictions for its accounts, or a fit on its "
        "own orders (default: kpi.toml's clv_fit, else company)",
    )
    p.add_argument(
        "--format", choices=["json", "csv"], default="json", help="json summary or csv accounts"
    )
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(run=clv)
