"""Commands that publish: ``pack`` (the review pack), ``notebooks`` (the pages to open in
JupyterLab), ``explore``, ``send`` and ``notify`` (e-mail)."""

from __future__ import annotations

import argparse
import sys
import time

from kpi_helpers.explore import add_command as add_explore_command

from .options import (
    dataset_options,
    period_option,
    read_config,
    smtp_options,
    warn_password,
)


def pack(args: argparse.Namespace) -> int:
    from kpi_helpers.pack import build_pack, read_build_log

    families = [f for group in args.families or [] for f in group.split(",") if f] or None
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    warn_password(args, None if args.source or not args.config else read_config(args.config))
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
            database=args.database,
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


def notebooks(args: argparse.Namespace) -> int:
    from kpi_helpers.pack import NOTEBOOK_PARAMETERS, copy_notebooks

    params = {name: getattr(args, name) for name in NOTEBOOK_PARAMETERS}
    print(copy_notebooks(args.dir, params, force=args.force))
    return 0


def smtp_settings(args: argparse.Namespace):
    """The shared SMTP options of send and notify (see ``smtp_options``)."""
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


def dispatch(args: argparse.Namespace, settings, messages) -> int:
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


def send(args: argparse.Namespace) -> int:
    from kpi_helpers.mail import (
        build_message,
        check_address,
        find_pack,
        load_recipients,
        pick_scopes,
    )

    settings = smtp_settings(args)
    cfg = read_config(args.config)
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
    return dispatch(args, settings, messages)


def notify(args: argparse.Namespace) -> int:
    from kpi_helpers.mail import check_address, notify_message

    settings = smtp_settings(args)
    to = [check_address(a, "--to") for group in args.to for a in group.split(",") if a.strip()]
    return dispatch(
        args, settings, [notify_message(args.subject, args.body_file, settings.sender, to)]
    )


def add_publish_commands(sub: argparse._SubParsersAction) -> None:
    """Register pack, notebooks, explore, send, notify on the ``kpi-kit`` parser's subcommands."""
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
    period_option(p, "quarter (a QBR pack, reports/2026-Q4/) or year: the period holding --month")
    p.add_argument(
        "--jobs", type=int, default=2, help="worker processes, pages and forecast fits (default 2)"
    )
    p.add_argument(
        "--notebooks",
        help="folder of custom pages: every notebook there with a `parameters` cell joins "
        "the pack (one named like a kit page replaces it); default [pack] notebooks in kpi.toml",
    )
    p.add_argument("--out", help="output folder (default: output in kpi.toml, else reports/)")
    dataset_options(p, "kpi.toml with dataset settings")
    p.add_argument(
        "--force",
        action="store_true",
        help="rebuild every page and the data (by default a re-run reuses what is unchanged)",
    )
    p.set_defaults(run=pack)

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
    p.set_defaults(run=notebooks)

    add_explore_command(sub)  # kpi-kit explore (kpi_helpers.explore.lab)
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
    smtp_options(p)
    p.add_argument("--link-base", metavar="URL", help="URL of the reports folder, for links")
    p.add_argument("--config", help="kpi.toml (company name, currency)")
    p.set_defaults(run=send)

    p = sub.add_parser(
        "notify",
        help="e-mail an operator message, e.g. the log of a failed monthly build",
        description="A plain-text message whose body is the last 200 lines of --body-file.",
    )
    p.add_argument("--to", action="append", required=True, metavar="ADDR")
    p.add_argument("--subject", required=True)
    p.add_argument("--body-file", required=True, metavar="FILE", help="e.g. the build's log")
    smtp_options(p)
    p.set_defaults(run=notify)
