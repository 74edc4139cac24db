"""The pack's index page and its build log: ``index.html`` lists every scope and page
with its headline KPIs (from the snapshot), the alerts linked to their pages and the
command that opens the pack in the explorer; ``build.json`` records how long each step
took, whether the data step was reused and how each page went (what the next run may
reuse). ``pack.build`` calls them last, in the temporary folder, before it swaps the
pack into place.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from kpi_helpers.catalog import format_change, format_kpi, get, scope_label
from kpi_helpers.core import Config
from kpi_helpers.report import (
    HEADLINES,
    PERIOD_WORDS,
    TEMPLATES,
    Snapshot,
    beyond_usual,
    summary_headlines,
    trend_tone,
)

from .runner import Outcome

SNAPSHOT_DIR = "data"  # the pack's snapshot folder, beside the scopes' folders


@dataclass(frozen=True)
class Page:
    """One page of the pack: a notebook run once per scope."""

    name: str  # the file name of its HTML and PDF, without suffix
    notebook: str
    title: str


def alert_links(alerts: list[dict], folders: dict[str, str], build: Path) -> list[dict]:
    """The alerts with ``href``: the summary page of the alert's scope, else of a rep's
    team, else of the company; empty when the pack has none of them.

    >>> alert_links([{"scope": "rep:R1", "team": "EMEA"}], {}, Path("no-pack"))
    [{'scope': 'rep:R1', 'team': 'EMEA', 'href': ''}]
    """
    linked = []
    for alert in alerts:
        href = ""
        for scope in (alert["scope"], f"team:{alert.get('team')}", "company"):
            page = f"{folders[scope]}/summary.html" if scope in folders else ""
            if page and (build / page).exists():
                href = page
                break
        linked.append(alert | {"href": href})
    return linked


def write_build_log(
    build: Path, clock: dict[str, float], outcomes: list[Outcome], data: dict
) -> None:
    """``build.json``: how long each step took, whether the data step was reused, and
    how each page went, with its key and files (what the next run may reuse).

    Example: ``write_build_log(build, {"started": t0, "snapshot": t1}, outcomes,
    dict(key=key, reused=False))`` writes ``build/build.json``."""
    steps = list(clock)
    seconds = {b: round(clock[b] - clock[a], 2) for a, b in zip(steps, steps[1:], strict=False)}
    seconds["total"] = round(clock[steps[-1]] - clock["started"], 2)
    pages = [
        dict(
            scope=o.scope,
            page=o.family,
            ok=o.ok,
            seconds=round(o.seconds, 2),
            error=o.error,
            key=o.key,
            reused=o.reused,
            built_at=o.built_at,
            files=o.files,
        )
        for o in outcomes
    ]
    log = dict(seconds=seconds, data=data, pages=pages)
    (build / "build.json").write_text(json.dumps(log, indent=1), encoding="utf-8")


def explore_line(month_dir: Path) -> str:
    """The one command that opens a pack in the JupyterLab explorer, as the index shows
    it: the pack's folder relative to the working folder when under it.

    >>> explore_line(Path("reports/2026-11"))
    'kpi-kit explore reports/2026-11'
    """
    folder = Path(month_dir)
    try:
        folder = folder.resolve().relative_to(Path.cwd().resolve())
    except ValueError:  # elsewhere: its absolute path
        folder = folder.resolve()
    return f"kpi-kit explore {shlex.quote(folder.as_posix())}"


def read_build_log(month_dir: Path) -> dict:
    """The ``build.json`` of a built pack (see :func:`write_build_log`)."""
    return json.loads((Path(month_dir) / "build.json").read_text(encoding="utf-8"))


def write_index(
    build: Path,
    scopes: list[str],
    folders: dict[str, str],
    pages: list[Page],
    outcomes: list[Outcome],
    snapshot: Snapshot,
    cfg: Config,
    meta: dict,
) -> None:
    """``index.html``: every scope and page with its headline KPIs, from the snapshot.

    Example: ``write_index(build, ["company"], {"company": "company"}, pages, outcomes,
    Snapshot(build / SNAPSHOT_DIR), cfg, meta)``, ``meta`` holding the page's header
    (company, generated_at, month_label, period, alerts, explore, ...); the index speaks
    in the words of its ``period`` (``report.PERIOD_WORDS``: "this quarter")."""
    by_key = {(o.scope, o.family): o for o in outcomes}
    every = snapshot.kpis()
    kpi_rows = every[every["month"] == snapshot.month].set_index(["key", "kpi"])
    scope_rows = []
    for scope in scopes:
        folder = folders[scope]
        entries = []
        # the summary's headlines as its page shows them (those with a signal)
        mine = every[every["key"] == scope]
        summary = summary_headlines(mine, snapshot.month)
        why = snapshot.drivers(scope)  # a headline that moved beyond usual: its top driver
        for page in pages:
            o = by_key.get((scope, page.name))
            heads = []
            wanted = summary if page.name == "summary" else HEADLINES.get(page.name, [])
            for kpi in wanted:
                k = get(kpi)
                if (scope, k.id) not in kpi_rows.index:
                    continue
                r = kpi_rows.loc[(scope, k.id)]
                if r["status"] == "not_available":  # the page says what it needs
                    continue
                ok = r["status"] == "ok"
                value = format_kpi(k, r["value"], cfg.currency) if ok else "n/a"
                change = format_change(r["mom_change"], r["change_unit"], cfg.currency)
                tone = trend_tone(r["trend"])
                top = (why.get(k.id, {}).get("top") or [""])[0]
                driver = top if beyond_usual(mine, k.id, snapshot.month) else ""
                row = dict(name=k.name, value=value, change=change, tone=tone, rag=r["rag"] or "")
                heads.append(row | {"driver": driver})
            has_html = (build / folder / f"{page.name}.html").exists()
            has_pdf = (build / folder / f"{page.name}.pdf").exists()
            entries.append(
                dict(
                    title=page.title,
                    failed=not (o and o.ok),
                    error=(o.error if o else "not run"),
                    headlines=heads,
                    html=f"{folder}/{page.name}.html" if has_html else "",
                    pdf=f"{folder}/{page.name}.pdf" if has_pdf else "",
                    notebook=f"{folder}/notebooks/{page.name}.ipynb",
                    reused=bool(o and o.reused),
                    log=o.log if o and not o.ok and (build / o.log).is_file() else "",
                    built_at=(o.built_at.replace("T", " ")[:16] if o else ""),
                )
            )
        pdf = f"{folder}/pack.pdf" if (build / folder / "pack.pdf").exists() else ""
        scope_rows.append(
            dict(
                label=scope_label(scope),
                folder=folder,
                pages=entries,
                pdf=pdf,
                csv=f"{SNAPSHOT_DIR}/{snapshot.kpis_csv(scope)}",
            )
        )
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    css = (TEMPLATES / "kpi_pack" / "pack.css").read_text(encoding="utf-8")
    page = env.get_template("index.html.j2").render(
        **meta,
        words=PERIOD_WORDS[meta.get("period") or "month"],
        scopes=scope_rows,
        css=Markup(css),
        failed=sum(1 for o in outcomes if not o.ok),
        reused=sum(1 for o in outcomes if o.reused),
        built=len(outcomes),
        fingerprint=snapshot.meta["fingerprint"][:12],
        kit_version=snapshot.meta["kit_version"],
    )
    (build / "index.html").write_text(page, encoding="utf-8")
