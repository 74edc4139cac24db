"""The ``kpi-kit`` command line: one readable message and a non-zero exit on bad input,
never a traceback.

Each command imports the layers it needs inside its function: ``kpi-kit --help`` and a
mistyped option answer without loading Ibis, Jupyter or matplotlib (tests/test_layers.py
holds ``import kpi_helpers.cli`` to that). Nothing else in the kit imports itself inside a
function, but a page without a snapshot (``report.notebook``, which then loads
``report.live``)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence

from kpi_helpers.core import KitError, atomic_path, write_text


def _config(path: str | None):
    """kpi.toml read and checked whole, its ``[[alerts]]`` rules included, so a bad rule
    is an error for every command that reads the file."""
    from kpi_helpers.alerts import rules_of
    from kpi_helpers.core import load_config

    cfg = load_config(path)
    rules_of(cfg)
    return cfg


def _dataset(args: argparse.Namespace, cfg=None):
    """kpi.toml (``--config``, unless already read as ``cfg``) and the dataset it names,
    ``--source``/``--mapping`` taking precedence: what compute, forecast, alerts and clv
    open, its months ending in kpi.toml's timezone."""
    from kpi_helpers.data import open_dataset

    cfg = cfg or _config(args.config)
    _warn_password(args, cfg)
    source, mapping = args.source or cfg.source, args.mapping or cfg.mapping or None
    return cfg, open_dataset(source, mapping, cfg.timezone)


def _warn_password(args: argparse.Namespace, cfg=None) -> None:
    """One line on stderr when ``--source`` (else kpi.toml's ``source``) is a database URL
    with a password (``data.password_warning``); it still connects."""
    source, given_in = args.source, ""
    if not source and cfg is not None:
        source, given_in = cfg.source, args.config or "kpi.toml"
    if "://" in str(source or ""):  # the data layer loads only for a URL
        from kpi_helpers.data import password_warning

        if note := password_warning(source, given_in):
            print(f"kpi-kit {args.command}: {note}", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    from kpi_helpers.data import exit_code, format_report, open_dataset, validate

    _warn_password(args)
    cfg = _config(args.config)  # its timezone: where days end, for dates in the future
    ds = open_dataset(args.source, args.mapping, cfg.timezone, keep_unreadable=True)
    findings = validate(ds)
    print(format_report(findings, ds.description))
    return exit_code(findings)


def _init(args: argparse.Namespace) -> int:
    from kpi_helpers.data import init

    return init(args.source, args.out, force=args.force)


def _sample_data(args: argparse.Namespace) -> int:
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


def _compute(args: argparse.Namespace) -> int:
    from pathlib import Path

    import pandas as pd

    from kpi_helpers import kpis
    from kpi_helpers.catalog import select
    from kpi_helpers.data import month_asked

    cfg, ds = _dataset(args)
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
    _write_frame(df, args.out, args.format)
    if args.tables:
        out = Path(args.tables)
        out.mkdir(parents=True, exist_ok=True)
        scope = args.scope if ":" in args.scope else "company"
        for k in (k for k in chosen if k.is_table):
            try:
                table = kpis.table(ds, k.id, args.month, scope, cfg)
            except KitError as exc:
                print(f"kpi-kit compute: {k.id}: {exc}", file=sys.stderr)
                continue
            _write_frame(table, out / f"{k.id}.{args.format}", args.format)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from kpi_helpers.catalog import get
    from kpi_helpers.core.files import write_text
    from kpi_helpers.drivers import explain, rendered

    cfg, ds = _dataset(args)
    dims = [d for d in args.dimensions.split(",") if d] if args.dimensions else None
    e = explain(ds, args.kpi, args.scope, args.month, args.vs, dims, cfg)
    text = rendered(e, get(e.kpi), args.format, cfg.currency)
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_text(args.out, text)
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from kpi_helpers.models import fit_jobs, forecast_kpi

    cfg, ds = _dataset(args)
    if args.period != "month":
        from kpi_helpers.models import period_forecast

        with fit_jobs(args.jobs):
            df = period_forecast(ds, args.kpi, args.month, args.period, args.scope, cfg)
        if args.format == "text":
            args.format = "csv"  # one row: the period's sum, its interval from summed paths
        _write_frame(df, args.out, args.format)
        return 0
    with fit_jobs(args.jobs):
        df = forecast_kpi(ds, args.kpi, args.month, args.scope, args.horizon, cfg)
    if args.format == "text":
        text = _forecast_text(df)
        if args.out is None:
            print(text)
        else:
            write_text(args.out, text + "\n")
        return 0
    _write_frame(df, args.out, args.format)
    return 0


def _forecast_text(df) -> str:
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


def _alerts(args: argparse.Namespace) -> int:
    import json

    from kpi_helpers import alerts
    from kpi_helpers.data import check_month, month_asked

    cfg = _config(args.config)
    rules = alerts.rules_of(cfg)
    if not rules:
        where = args.config or "a kpi.toml (pass it with --config)"
        raise KitError(
            f"No alert rules in {where}: add one [[alerts]] table per rule, e.g.\n"
            '  [[alerts]]\n  kpi = "win_rate"\n  scope = "team:*"\n  below = 20'
        )
    _, ds = _dataset(args, cfg)
    month = month_asked(ds, args.month)
    check_month(ds, month)
    label = str(month)
    if args.period != "month":  # the period holding --month, through its last month with data
        from kpi_helpers.core import Calendar

        span = Calendar(cfg.fiscal_year_start).period(args.period, month)
        span = span.cut(month_asked(ds, "latest"))
        month, label = span.through, span.label + (f" {span.status}" if span.status else "")
    found = alerts.check_dataset(ds, rules, str(month), cfg, period=args.period)
    if args.format == "json":
        print(json.dumps([a.as_dict() for a in found.alerts], indent=1, ensure_ascii=False))
        for note in found.notes:
            print(f"kpi-kit alerts: note: {note}", file=sys.stderr)
    else:
        print(alerts.format_text(found, label, len(rules)))
    return 3 if found.alerts else 0


def _write_frame(df, out, fmt: str) -> None:
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


def _clv(args: argparse.Namespace) -> int:
    from kpi_helpers.models import fit_clv, format_summary, write_result

    cfg, ds = _dataset(args)
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


def _catalog(args: argparse.Namespace) -> int:
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


def _pack(args: argparse.Namespace) -> int:
    from kpi_helpers.pack import build_pack, read_build_log

    families = [f for group in args.families or [] for f in group.split(",") if f] or None
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    _warn_password(args, None if args.source or not args.config else _config(args.config))
    from kpi_helpers.models import fit_jobs

    started = time.perf_counter()
    with fit_jobs(args.jobs):
        path, outcomes = build_pack(
            args.month,
            scopes=args.scopes,
            families=families,
            formats=formats,
            jobs=args.jobs,
            out=args.out,
            source=args.source,
            mapping=args.mapping,
            config=args.config,
            notebooks=args.notebooks,
            force=args.force,
            period=args.period,
        )
    failed = [o for o in outcomes if not o.ok]
    reused = sum(1 for o in outcomes if o.reused)
    for o in failed:
        where = f" (log: {path / o.log})" if o.log else ""
        print(f"FAILED {o.scope} {o.family}: {o.error}{where}", file=sys.stderr)
    log = read_build_log(path)
    steps = log["seconds"]
    print(
        f"{len(outcomes) - len(failed)} of {len(outcomes)} pages ready in "
        f"{time.perf_counter() - started:.0f} s: {len(outcomes) - reused} built, {reused} "
        f"reused unchanged (data {'reused' if log['data']['reused'] else 'computed'} "
        f"{steps['snapshot']:.0f} s, pages {steps['pages']:.0f} s, index {steps['index']:.0f} s)"
    )
    print(f"Pack: {(path / 'index.html').resolve()}")
    return 1 if failed else 0


def _period_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--period month|quarter|year`` (default month; kpi.toml's fiscal_year_start)."""
    p.add_argument(
        "--period", choices=["month", "quarter", "year"], default="month", help=f"{what}"
    )


def _notebooks(args: argparse.Namespace) -> int:
    from kpi_helpers.pack import NOTEBOOK_PARAMETERS, copy_notebooks

    params = {name: getattr(args, name) for name in NOTEBOOK_PARAMETERS}
    print(copy_notebooks(args.dir, params, force=args.force))
    return 0


def _smtp_settings(args: argparse.Namespace):
    """The shared SMTP options of send and notify (see ``_smtp_options``)."""
    from kpi_helpers.mail import SmtpSettings

    return SmtpSettings.parse(
        args.smtp,
        starttls=args.starttls,
        ssl_=args.ssl,
        user=args.user,
        password=args.password,
        sender=args.sender,
        dry_run=args.dry_run is not None,
    )


def _dispatch(args: argparse.Namespace, settings, messages) -> int:
    """Write ``--dry-run`` files or send; one line per message, FAILED lines on stderr;
    exit 1 when any message or recipient failed."""
    from kpi_helpers.mail import deliver, write_eml

    if args.dry_run is not None:
        for out in messages:
            path = write_eml(args.dry_run, out.name, out.message)
            kb = out.size / 1024
            print(f"{out.label}: {len(out.recipients)} recipient(s), {kb:.0f} KB -> {path}")
        return 0

    def report(outcome) -> None:
        out = outcome.outgoing
        for addr, reason in outcome.refused.items():
            print(f"FAILED {out.label} → {addr}: {reason}", file=sys.stderr)
        got = len(out.recipients) - len(outcome.refused)
        if got:
            print(f"sent {out.label}: {got} recipient(s), {out.size / 1024:.0f} KB")

    outcomes = deliver(settings, messages, report)
    return 0 if all(o.ok for o in outcomes) else 1


def _send(args: argparse.Namespace) -> int:
    from kpi_helpers.mail import (
        build_message,
        check_address,
        find_pack,
        load_recipients,
        pick_scopes,
    )

    settings = _smtp_settings(args)
    cfg = _config(args.config)
    pack = find_pack(args.reports or cfg.output, args.month)
    if args.recipients:
        recipients = load_recipients(args.recipients, pack.snapshot.paged_scopes)
    else:
        to = [check_address(a, "--to") for group in args.to for a in group.split(",") if a.strip()]
        recipients = dict.fromkeys(pack.snapshot.paged_scopes, to)
    scopes = pick_scopes(pack, args.scopes, recipients)
    messages = [
        build_message(pack, s, recipients[s], settings.sender, cfg, args.link_base, args.config)
        for s in scopes
    ]
    return _dispatch(args, settings, messages)


def _notify(args: argparse.Namespace) -> int:
    from kpi_helpers.mail import check_address, notify_message

    settings = _smtp_settings(args)
    to = [check_address(a, "--to") for group in args.to for a in group.split(",") if a.strip()]
    return _dispatch(
        args, settings, [notify_message(args.subject, args.body_file, settings.sender, to)]
    )


def _smtp_options(p: argparse.ArgumentParser) -> None:
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


def _month(text: str) -> str:
    import re

    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month written YYYY-MM")
    return text


def _dataset_options(p: argparse.ArgumentParser, config_help: str) -> None:
    """The ``--source``, ``--mapping`` and ``--config`` options of the commands that
    open a dataset (see :func:`_dataset`)."""
    p.add_argument("--source", help="dataset (default: source in kpi.toml, else data/sample)")
    p.add_argument("--mapping", help="TOML mapping file for a foreign export")
    p.add_argument("--config", help=config_help)


def _jobs_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--jobs",
        type=int,
        help="worker processes for the forecast fits (default: the machine's cores, at most 4)",
    )


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
    p.add_argument("--config", help="kpi.toml (its timezone: where days and months end)")
    p.set_defaults(run=_validate)

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
    p.set_defaults(run=_init)

    p = sub.add_parser("sample-data", help="write a realistic sample dataset")
    p.add_argument("--out", required=True, help="new or empty folder, or one it wrote")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--end", type=_month, help="last month (YYYY-MM); default: last complete")
    p.add_argument(
        "--format", choices=["csv", "parquet"], help="default: csv for small, parquet otherwise"
    )
    p.add_argument("--messy", action="store_true", help="add known data-quality problems")
    p.add_argument("--force", action="store_true", help="replace any --out but ., ~ and /")
    p.set_defaults(run=_sample_data)

    p = sub.add_parser("compute", help="compute KPIs into a tidy table")
    _dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument(
        "--month",
        required=True,
        help="last month: YYYY-MM, latest (in the data) or previous (last complete month)",
    )
    p.add_argument(
        "--period",
        choices=["month", "quarter", "year"],
        default="month",
        help="month, fiscal quarter or fiscal year (kpi.toml's fiscal_year_start; default month)",
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
    _jobs_option(p)
    p.set_defaults(run=_compute)

    p = sub.add_parser("explain", help="why a KPI moved: its exact drivers (team, product...)")
    _dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument("--month", required=True, help="YYYY-MM, latest or previous")
    p.add_argument("--kpi", required=True, help="KPI id, e.g. monthly_sales_bookings")
    p.add_argument("--scope", default="company", help="company, team:NAME or rep:ID")
    p.add_argument("--vs", choices=["previous", "year", "target"], default="previous")
    p.add_argument("--dimensions", help="comma-separated, e.g. team,product (default: all)")
    p.add_argument("--format", choices=["text", "json", "csv"], default="text")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(run=_explain)

    p = sub.add_parser(
        "forecast",
        help="forecast a KPI's next months (ETS, 80%% interval)",
        description="One row per future month: month, forecast, lower, upper, method.",
    )
    _dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument(
        "--month", required=True, help="last month of history: YYYY-MM, latest or previous"
    )
    p.add_argument("--kpi", required=True, help="KPI id, e.g. sales_revenue")
    p.add_argument("--scope", default="company", help="company, team:NAME or rep:ID")
    p.add_argument("--horizon", type=int, default=3, help="months ahead (default 3)")
    _period_option(p, "quarter or year: the next one's total, its interval from summed paths")
    p.add_argument("--format", choices=["csv", "json", "parquet", "text"], default="csv")
    p.add_argument("--out", help="file to write (default: standard output)")
    _jobs_option(p)
    p.set_defaults(run=_forecast)

    p = sub.add_parser(
        "alerts",
        help="check the [[alerts]] rules of kpi.toml for a month",
        description="One line per alert that fired (or a JSON list), then a count. Exit "
        "code: 0 nothing fired, 3 alerts fired, 2 a problem to fix (bad rule, no rules).",
    )
    _dataset_options(p, "kpi.toml holding the [[alerts]] rules")
    p.add_argument(
        "--month", required=True, help="YYYY-MM, latest (in the data) or previous (last complete)"
    )
    p.add_argument("--format", choices=["text", "json"], default="text")
    _period_option(p, "quarter or year: the rules read the period holding --month")
    p.set_defaults(run=_alerts)

    p = sub.add_parser("pack", help="build the monthly review pack (HTML and PDF)")
    p.add_argument(
        "--month",
        required=True,
        help="YYYY-MM, latest (the data's last month) or previous (the last complete month); "
        "with --period: complete (the last quarter or year the data covers in full)",
    )
    p.add_argument(
        "--scopes",
        default="all",
        help="all (company + every team) or a list: company,team:NAME,rep:ID",
    )
    p.add_argument(
        "--families",
        action="append",
        help="pages to build: summary, KPI families, custom pages (default: all), comma-separated",
    )
    p.add_argument("--formats", default="html,pdf", help="html and/or pdf (default both)")
    _period_option(p, "quarter (a QBR pack, reports/2026-Q4/) or year: the period holding --month")
    p.add_argument(
        "--jobs", type=int, default=2, help="worker processes, pages and forecast fits (default 2)"
    )
    p.add_argument(
        "--notebooks",
        help="folder of custom pages: every notebook there with a `parameters` cell joins "
        "the pack (one named like a kit page replaces it); default [pack] notebooks in kpi.toml",
    )
    p.add_argument("--out", help="output folder (default: output in kpi.toml, else reports/)")
    _dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument(
        "--force",
        action="store_true",
        help="rebuild every page and the data (by default a re-run reuses what is unchanged)",
    )
    p.set_defaults(run=_pack)

    p = sub.add_parser(
        "notebooks",
        help="copy the kit's page notebooks into a folder, to open in JupyterLab",
        description="Copies the summary and every KPI family's notebook into DIR (created "
        "if needed) and says how to point them at your data and open them. Existing "
        "notebooks there are kept unless --force.",
    )
    p.add_argument("dir", metavar="DIR", help="the folder to copy the notebooks into")
    p.add_argument(
        "--source",
        metavar="SRC",
        help="the data the copies read: a folder, .xlsx, .duckdb or env:VAR holding a "
        "database URL (default ../data/sample, from DIR)",
    )
    p.add_argument("--mapping", metavar="FILE", help="the copies' mapping file")
    p.add_argument("--config", metavar="FILE", help="the copies' kpi.toml")
    p.add_argument("--force", action="store_true", help="replace notebooks already in DIR")
    p.set_defaults(run=_notebooks)

    p = sub.add_parser("clv", help="fit predictive CLV (BG/NBD + Gamma-Gamma) for one scope")
    _dataset_options(p, "kpi.toml (clv_discount_rate, default 0.01 a month)")
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
    p.set_defaults(run=_clv)

    p = sub.add_parser(
        "send",
        help="e-mail each scope's summary with its PDF pack",
        description="One message per scope: headline cards, alerts, trend charts, a link to "
        "the HTML pack, and the scope's pack.pdf attached. Exit code: 0 all sent, 1 a "
        "message or recipient failed (the others are sent), 2 bad input.",
    )
    p.add_argument("--month", required=True, help="YYYY-MM, latest (newest pack) or previous")
    p.add_argument(
        "--reports", help="the packs' folder (default: output in kpi.toml, else reports/)"
    )
    p.add_argument("--scopes", help="company,team:NAME,... (default: every scope with a recipient)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--to", action="append", metavar="ADDR", help="send every scope here")
    who.add_argument("--recipients", metavar="FILE", help="TOML file: [recipients] scope = [...]")
    _smtp_options(p)
    p.add_argument("--link-base", metavar="URL", help="URL of the reports folder, for links")
    p.add_argument("--config", help="kpi.toml (company name, currency)")
    p.set_defaults(run=_send)

    p = sub.add_parser(
        "notify",
        help="e-mail an operator message, e.g. the log of a failed monthly build",
        description="A plain-text message whose body is the last 200 lines of --body-file.",
    )
    p.add_argument("--to", action="append", required=True, metavar="ADDR")
    p.add_argument("--subject", required=True)
    p.add_argument("--body-file", required=True, metavar="FILE", help="e.g. the build's log")
    _smtp_options(p)
    p.set_defaults(run=_notify)

    p = sub.add_parser("catalog", help="print the KPI catalog")
    p.add_argument("--format", choices=["md", "html", "csv"], default="md")
    p.set_defaults(run=_catalog)
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


if __name__ == "__main__":
    sys.exit(main())
