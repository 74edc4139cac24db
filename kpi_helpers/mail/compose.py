"""The monthly summary by e-mail (``kpi-kit send``): one message per scope of a built pack.

Each message is ``multipart/mixed``: a ``multipart/alternative`` of a plain-text part and
a ``multipart/related`` HTML part (headline cards, the scope's alerts, two or three
13-month trend charts as ``cid:`` PNG parts, a link to the HTML pack), then the scope's
merged ``pack.pdf`` as an attachment. Every number comes from the pack's snapshot; HTML
is rendered by Jinja2 with autoescape (``templates/email/``), so names from the data
are escaped; the HTML part stays under :data:`HTML_LIMIT` (Gmail clips longer ones).
Example::

    pack = find_pack("reports", "previous")
    recipients = load_recipients("recipients.toml", pack.snapshot.paged_scopes)
    for scope in pick_scopes(pack, None, recipients):
        out = build_message(pack, scope, recipients[scope], sender="kpi@example.com")
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import quote

import jinja2
import matplotlib.pyplot as plt
import pandas as pd

from kpi_helpers.catalog import REGISTRY, get, scope_label
from kpi_helpers.core import Config, KitError, Month, load_config, read_toml
from kpi_helpers.report import (
    ALERTS_FILE,
    HEADLINES,
    PERIOD_FOLDER,
    SNAPSHOT_FILE,
    TEMPLATES,
    Report,
    Snapshot,
    alerts_of_scope,
    charts,
    month_label,
    mover_weights,
)

from .smtp import Outgoing, check_address, envelope_address, one_line

HTML_LIMIT = 100_000  # bytes of the HTML part; Gmail clips a message's HTML at ~102 KB
MAX_ALERTS = 12  # alerts listed in a message; the rest are counted
MIN_CARDS = 4  # cards kept when the HTML must shrink
CHART_KPIS = ("sales_revenue", "monthly_sales_bookings")  # always charted when available
CHART_WIDTH, CHART_DPI = 600, 100  # pixels and dots per inch of a chart image
CHART_INCHES = (CHART_WIDTH / CHART_DPI, 2.7)
# type in points, larger than the pages' charts: a phone shows the 600 px image at ~350 px
CHART_FONTS = {"title": 15, "ticks": 13, "legend": 12}
REPORT_NAME = "sales-kpi-review"
SAFE = re.compile(r"[a-z0-9][a-z0-9-]*")
RAG_COLOURS = {"green": "#1b7340", "amber": "#b7791f", "red": "#b42318"}
NO_RAG = "#b8c0c8"
TONES = {"good": "#1b7340", "bad": "#b42318"}
MUTED = "#5f6b77"


@dataclass
class PackMonth:
    """A built pack month: ``reports/<month>/`` and its snapshot."""

    path: Path
    month: str
    snapshot: Snapshot


def build_command(month: str) -> str:
    """The command that builds the pack a message needs (named in errors): a month's, or
    a quarter's or year's (``2026-Q4``, ``FY2027``: its folder's name).

    >>> build_command("FY2027-Q1")
    'kpi-kit pack --period quarter --month <a month of FY2027-Q1> --formats html,pdf'
    """
    if re.fullmatch(PERIOD_FOLDER, month):
        kind = "quarter" if "-Q" in month else "year"
        return f"kpi-kit pack --period {kind} --month <a month of {month}> --formats html,pdf"
    return f"kpi-kit pack --month {month} --formats html,pdf"


def find_pack(reports: str | Path, month: str) -> PackMonth:
    """The pack of ``month`` (YYYY-MM, ``latest``: the newest month folder under
    ``reports`` with a snapshot, or ``previous``: the last complete month) under
    ``reports``; KitError naming the path and the command that builds it. A quarter's or
    year's pack is found by its label (``2026-Q4``, ``FY2027-Q1``, ``FY2027``).

    >>> find_pack("reports", "2026-10").path   # doctest: +SKIP
    PosixPath('reports/2026-10')
    """
    reports = Path(reports)
    if month == "latest":
        found = sorted(
            p.name
            for p in (reports.iterdir() if reports.is_dir() else [])
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}", p.name) and (p / "data" / SNAPSHOT_FILE).exists()
        )
        if not found:
            raise KitError(
                f"No pack under {reports}/ (no <month>/data/{SNAPSHOT_FILE}): build one "
                f"with `{build_command('latest')}`, or point --reports (or output in kpi.toml) "
                "at the packs."
            )
        month = found[-1]
    elif month == "previous":
        month = str(Month.previous())
    elif re.fullmatch(PERIOD_FOLDER, month.strip()):  # a QBR: reports/2026-Q4/
        month = month.strip()
    else:
        month = str(Month.parse(month))
    path = reports / month
    if not (path / "data" / SNAPSHOT_FILE).exists():
        raise KitError(
            f"No pack for {month}: {path / 'data' / SNAPSHOT_FILE} is missing. Build it with "
            f"`{build_command(month)}`."
        )
    snapshot = Snapshot(path / "data")
    if snapshot.label != month:
        raise KitError(f"{path} holds the pack of {snapshot.label}, not {month}; rebuild it.")
    return PackMonth(path, month, snapshot)


def load_recipients(path: str | Path, scopes: list[str]) -> dict[str, list[str]]:
    """Read a recipients file and map each scope of ``scopes`` (the pack's) to its
    addresses. ``"team:*"`` (any ``kind:*``) gives every scope of that kind; a scope
    that is not in the pack, a bad address or a malformed file is one KitError.

    Example file::

        [recipients]
        company = ["ceo@example.com", "cfo@example.com"]
        "team:EMEA" = ["emea-lead@example.com"]
        "team:*" = ["sales-ops@example.com"]

    >>> load_recipients("recipients.toml", ["company", "team:EMEA"])  # doctest: +SKIP
    {'company': ['ceo@example.com', 'cfo@example.com'], 'team:EMEA': [...]}
    """
    path = Path(path)
    data = read_toml(path, "Recipients file")
    table = data.get("recipients")
    extra = sorted(set(data) - {"recipients"})
    if not isinstance(table, dict) or extra:
        raise KitError(
            f"{path.name}: write the addresses in one [recipients] table, e.g. "
            '[recipients] company = ["ceo@example.com"]'
            + (f"; unknown: {', '.join(extra)}" if extra else "")
            + "."
        )
    out: dict[str, list[str]] = {s: [] for s in scopes}
    for key, value in table.items():
        where = f"{path.name}: [recipients] {key!r}"
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise KitError(f'{where} must be a list of addresses, e.g. ["lead@example.com"].')
        addresses = [check_address(v, where) if isinstance(v, str) else "" for v in value]
        if "" in addresses:
            raise KitError(f"{where} must be a list of addresses (text), not {value!r}.")
        kind, _, name = key.partition(":")
        matched = [s for s in scopes if s.partition(":")[0] == kind] if name == "*" else (
            [key] if key in scopes else []
        )  # fmt: skip
        if name == "*" and kind not in ("team", "rep"):
            raise KitError(f"{where}: write team:* (every team) or rep:* (every rep).")
        if not matched and name != "*":  # a wildcard may match nothing this month
            raise KitError(
                f"{where}: no such scope in this pack; it has {', '.join(scopes)} "
                "(and team:* or rep:* for every scope of a kind)."
            )
        for scope in matched:
            for address in addresses:
                if address not in out[scope]:
                    out[scope].append(address)
    return {s: a for s, a in out.items() if a}


def pick_scopes(pack: PackMonth, wanted: str | None, recipients: dict[str, list[str]]) -> list[str]:
    """The scopes to send: ``wanted`` (comma-separated) or every scope of the pack with a
    recipient, in the pack's order."""
    scopes = pack.snapshot.paged_scopes
    if wanted:
        chosen = [s.strip() for s in wanted.split(",") if s.strip()]
        unknown = [s for s in chosen if s not in scopes]
        if unknown:
            raise KitError(
                f"--scopes: {', '.join(unknown)} not in the pack of {pack.month}; it has "
                f"{', '.join(scopes)}."
            )
        lacking = [s for s in chosen if not recipients.get(s)]
        if lacking:
            raise KitError(f"No recipient for {', '.join(lacking)}: add them to the file.")
        return list(dict.fromkeys(chosen))
    chosen = [s for s in scopes if recipients.get(s)]
    if not chosen:
        raise KitError("No scope of the pack has a recipient.")
    return chosen


def pdf_path(pack: PackMonth, scope: str) -> Path:
    """The scope's merged PDF; KitError with the command that builds it when missing."""
    folder = safe_folder(pack, scope)
    path = pack.path / folder / "pack.pdf"
    if not path.exists():
        raise KitError(
            f"{path} is missing (the pack was built without PDF): build it with "
            f"`{build_command(pack.month)}`."
        )
    return path


def safe_folder(pack: PackMonth, scope: str) -> str:
    """The scope's folder name, checked to be a safe file name (letters, digits, -)."""
    folder = pack.snapshot.folder(scope)
    if not SAFE.fullmatch(folder):
        raise KitError(f"{pack.snapshot.path / SNAPSHOT_FILE} is damaged; rebuild the pack.")
    return folder


def subject_for(company: str, scope: str, month: str) -> str:
    """The subject: company, scope and month, on one line whatever the names hold.

    >>> subject_for("", "team:EMEA", "2026-10")
    'Sales KPI review · Team EMEA · October 2026'
    """
    head = f"{company} KPI review" if company else "Sales KPI review"
    return one_line(f"{head} · {scope_label(scope)} · {month_label(month)}")


def link_for(base: str | None, month: str, folder: str) -> dict[str, str] | None:
    """The links to the HTML pack under ``base`` (``--link-base``), or None.

    >>> link_for("https://kpi.example.com/reports", "2026-10", "team-emea")["summary"]
    'https://kpi.example.com/reports/2026-10/team-emea/summary.html'
    """
    if not base:
        return None
    if not re.match(r"https?://[^\s/]+", base) or re.search(r"[\s\"'<>]", base):
        raise KitError(f"--link-base {base!r}: give the URL of the reports folder (https://...).")
    root = f"{base.rstrip('/')}/{quote(month)}"
    return {"summary": f"{root}/{quote(folder)}/summary.html", "index": f"{root}/index.html"}


# ------------------------------------------------------------------ the content


@dataclass
class Chart:
    """One inline chart: the KPI it draws, its PNG and its ``cid:``."""

    kpi: str
    cid: str
    png: bytes
    alt: str
    why: str = ""
    width: int = CHART_WIDTH


def summary_content(pack: PackMonth, scope: str, cfg: Config, config: str | None = None) -> dict:
    """Everything a message shows for ``scope``, as plain values: cards, alerts (None
    when the pack has no alerts file), charts (PNG bytes) and labels."""
    report = Report(
        "summary",
        month=pack.month,
        scope=scope,
        snapshot=str(pack.snapshot.path),
        config=config or "",
        period=pack.snapshot.period,
    )
    cards = [c for k in report.headlines() if (c := _card(report, k)) is not None]
    alerts, other_alerts, rules = None, 0, 0
    if (pack.snapshot.path / ALERTS_FILE).exists():
        # none (and nothing fired): "No alert rules are set", not "No alerts"
        rules = len(pack.snapshot.alert_rules()) or len(pack.snapshot.alerts())
        own, other_alerts = alerts_of_scope(pack.snapshot.alerts(), scope)
        alerts = [
            {k: one_line(str(a.get(k) or "")) for k in ("name", "value_text", "rule", "why")}
            | {"who": one_line(a.get("scope_label") or "") if a["scope"] != scope else ""}
            for a in own
        ]
    folder = safe_folder(pack, scope)
    return dict(
        company=cfg.company or "Sales KPI review",
        scope_label=one_line(scope_label(scope)),
        month_label=report.when,
        previous=report.phrase("{last}"),  # what the cards' change is against
        this=report.phrase("{this}"),
        data_through=str(pack.snapshot.meta.get("data_through") or pack.month),
        cards=cards,
        alerts=alerts,
        other_alerts=other_alerts,
        alert_rules=rules,
        pacing=[one_line(line) for line in report.pace_lines()],
        charts=_charts(report, folder, pack.month),
    )


def _card(report: Report, kpi: str) -> dict | None:
    """The page's card (:meth:`Report.card`) as the e-mail draws it: colours for the RAG
    edge and the change, one note line."""
    card = report.card(kpi)
    if card is None:
        return None
    rag = "" if card["rag"] == "none" else card["rag"]
    out = dict(
        name=card["name"],
        ok=card["ok"],
        rag=rag,
        colour=RAG_COLOURS.get(rag, NO_RAG),
        value="n/a",
        change="",
        arrow="",
        change_colour=MUTED,
        note="",
        target="",
        attainment="",
    )
    if not card["ok"]:
        out["note"] = "".join(text for text, _ in card["reason"])
        return out
    mom = card["mom"]
    out.update(value=card["value"], target=card["target"] or "")
    out["attainment"] = card["attainment"] or ""
    if mom["value"] is not None:
        out.update(change=mom["value"], arrow=mom["arrow"])
        out["change_colour"] = TONES.get(mom["tone"], MUTED)
    elif get(kpi).is_model:
        out["note"] = mom["label"]  # "made at the end of this month"
    return out


def biggest_mover(report: Report, skip: tuple[str, ...] = ()) -> str | None:
    """The KPI that moved most this month (relative %, 1 pp weighing as 2 %), among
    those with a better-direction, preferring the pages' headline KPIs; None when
    nothing moved."""
    weight = mover_weights(report.current)
    weight = weight[~weight.index.isin(list(skip))]
    familiar = weight[weight.index.isin([k for ks in HEADLINES.values() for k in ks])]
    weight = familiar if len(familiar) else weight  # a headline KPI of some page, if one moved
    return None if weight.empty else str(weight.idxmax())


def _charts(report: Report, folder: str, month: str) -> list[Chart]:
    chosen = [(k, "") for k in CHART_KPIS if _has_series(report, k)]
    mover = biggest_mover(report, skip=CHART_KPIS)
    if mover:
        r = report.current.loc[mover]
        verb = "rose" if r["mom_change"] > 0 else "fell"
        change = charts.format_change(abs(r["mom_change"]), r["change_unit"]).lstrip("+")
        chosen.append(
            (
                mover,
                f"The biggest move this {report.period}: {REGISTRY[mover].name} {verb} {change}.",
            )
        )
    out = []
    for i, (kpi, why) in enumerate(chosen[:3], 1):
        k = get(kpi)
        axis = "month" if report.period == "month" else "period"  # a QBR: 8 quarters
        rows = report.df[report.df["kpi"] == kpi].set_index(axis)
        rows = rows[rows["status"] != "not_available"]
        title = f"{k.name}, last {len(rows)} {report.period}s"
        png = chart_png(rows["value"], title, k.unit, report.cfg.currency, rows["target"])
        out.append(Chart(kpi, f"chart{i}.{month}.{folder}@kpi-kit", png, title, why))
    return out


def _has_series(report: Report, kpi: str) -> bool:
    rows = report.df[report.df["kpi"] == kpi]
    return bool((rows["status"] == "ok").any())


def chart_png(
    series: pd.Series,
    title: str,
    unit: str,
    currency: str = "USD",
    target: pd.Series | None = None,
) -> bytes:
    """A trend chart (:func:`kpi_helpers.report.charts.trend_chart`) as a small PNG for mail:
    :data:`CHART_WIDTH` px wide, a 64-colour palette (a few KB, not tens).

    >>> png = chart_png(pd.Series([1.0, 2.0], index=["2026-09", "2026-10"]), "x", "count")
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    from PIL import Image  # Pillow (through matplotlib): only to size an e-mail's charts

    fig = charts.trend_chart(series, title, unit, currency, target)
    fig.set_size_inches(*CHART_INCHES)
    for ax in fig.axes:
        ax.set_title(ax.get_title(loc="left"), loc="left", fontsize=CHART_FONTS["title"])
        ax.tick_params(labelsize=CHART_FONTS["ticks"])
        if ax.get_legend() is not None:
            for text in ax.get_legend().get_texts():
                text.set_fontsize(CHART_FONTS["legend"])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, metadata={"Software": None})
    plt.close(fig)
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    small = image.quantize(colors=64, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


# ------------------------------------------------------------------ the message


def render(content: dict, limit: int = HTML_LIMIT) -> tuple[str, str, dict]:
    """The HTML and text of a message from :func:`summary_content` (plus ``subject``,
    ``links``, ``attachment``); drops the lowest-priority content (cards beyond
    :data:`MIN_CARDS`, then alerts) until the HTML is under ``limit`` bytes. Returns
    (html, text, the content shown)."""
    shown = dict(content)
    alerts = content.get("alerts")
    cards = list(content["cards"])
    keep_alerts = MAX_ALERTS
    while True:
        shown["cards"] = cards
        shown["dropped_cards"] = len(content["cards"]) - len(cards)
        if alerts is not None:
            shown["alerts"] = alerts[:keep_alerts]
            shown["more_alerts"] = len(alerts) - len(shown["alerts"])
        html = _env().get_template("email/summary.html.j2").render(**shown)
        if len(html.encode("utf-8")) < limit:
            break
        if len(cards) > MIN_CARDS:
            cards = cards[:-1]
        elif alerts is not None and keep_alerts > 0:
            keep_alerts = keep_alerts // 2
        else:
            raise KitError(
                f"The summary e-mail of {content['scope_label']} is "
                f"{len(html.encode()) // 1000} KB of HTML even at its smallest; please report it."
            )
    text = _env().get_template("email/summary.txt.j2").render(**shown)
    return html, text, shown


def build_message(
    pack: PackMonth,
    scope: str,
    recipients: list[str],
    sender: str,
    cfg: Config | None = None,
    link_base: str | None = None,
    config: str | None = None,
) -> Outgoing:
    """The summary message of ``scope`` to ``recipients`` (see the module docstring for
    its MIME tree), with the envelope and a safe file name for ``--dry-run``.

    >>> out = build_message(find_pack("reports", "2026-10"), "company",  # doctest: +SKIP
    ...                     ["ceo@example.com"], "kpi@example.com")
    >>> out.message["Subject"]                                          # doctest: +SKIP
    'Sales KPI review · Company · October 2026'
    """
    cfg = cfg or load_config(config)
    folder = safe_folder(pack, scope)
    pdf = pdf_path(pack, scope)
    attachment = f"{REPORT_NAME}-{pack.month}-{folder}.pdf"
    content = summary_content(pack, scope, cfg, config)
    content.update(
        subject=subject_for(cfg.company, scope, pack.month),
        links=link_for(link_base, pack.month, folder),
        attachment=attachment,
        preheader=_preheader(content["cards"]),
    )
    html, text, _ = render(content)
    msg = new_message(content["subject"], sender, recipients)
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for chart in content["charts"]:
        html_part.add_related(
            chart.png,
            maintype="image",
            subtype="png",
            cid=f"<{chart.cid}>",
            filename=f"{chart.kpi}.png",
            disposition="inline",
        )
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=attachment)
    return Outgoing(
        label=scope,
        message=msg,
        recipients=[envelope_address(r) for r in recipients],
        name=f"{pack.month}-{folder}",
    )


def new_message(subject: str, sender: str, recipients: list[str]) -> EmailMessage:
    """An empty message with the kit's headers; header values are made one line first
    (``email.policy.SMTP`` folds long ones), so no name can add a header."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = one_line(subject)
    msg["From"] = one_line(sender)
    msg["To"] = ", ".join(one_line(r) for r in recipients)
    msg["Date"] = formatdate(localtime=True)
    domain = envelope_address(sender).rpartition("@")[2] or "kpi-kit"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def _preheader(cards: list[dict]) -> str:
    """The preview line mail clients show beside the subject: the first three cards."""
    return " · ".join(
        f"{c['name']} {c['value']}" + (f" ({c['change']})" if c["change"] else "")
        for c in cards[:3]
    )


def notify_message(
    subject: str, body_file: str | Path, sender: str, recipients: list[str], lines: int = 200
) -> Outgoing:
    """A plain-text operator message (``kpi-kit notify``): ``subject`` and the last
    ``lines`` lines of ``body_file`` (e.g. the log of a failed monthly build).

    >>> notify_message("KPI pack failed", "build.log", "kpi@example.com",  # doctest: +SKIP
    ...                ["ops@example.com"])
    """
    path = Path(body_file)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KitError(f"--body-file {path} does not exist.") from None
    except IsADirectoryError:
        raise KitError(f"--body-file {path} is a folder, not a file.") from None
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    tail = text.splitlines()[-lines:]
    body = "\n".join(tail) + "\n"
    if len(text.splitlines()) > lines:
        body = f"(the last {lines} lines of {path.name})\n\n" + body
    msg = new_message(subject, sender, recipients)
    msg.set_content(body, subtype="plain", charset="utf-8")
    stem = re.sub(r"[^a-z0-9]+", "-", one_line(subject).lower()).strip("-")[:40] or "notify"
    return Outgoing(
        label="notify", message=msg, recipients=[envelope_address(r) for r in recipients],
        name=stem,
    )  # fmt: skip


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
