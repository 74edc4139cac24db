"""``kpi-kit send`` and ``kpi-kit notify`` against a real SMTP server in this process
(aiosmtpd on 127.0.0.1), with one small real pack (summary page, HTML and PDF)."""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_END, free_port
from conftest import SMTP_PASSWORD as PASSWORD

from kpi_helpers.catalog import format_kpi, get
from kpi_helpers.cli import main
from kpi_helpers.core import Config, KitError
from kpi_helpers.mail import (
    HTML_LIMIT,
    build_message,
    check_address,
    find_pack,
    load_recipients,
    password_from,
    render,
    subject_for,
    summary_content,
)
from kpi_helpers.pack import build_pack, find_chromium
from kpi_helpers.report import ALERTS_FILE, SNAPSHOT_FILE

TEAM = "<b>Partners & Alliances</b>"  # a team name that must be escaped everywhere
TEAM_SCOPE = f"team:{TEAM}"
MONTH_LABEL = "June 2026"  # SAMPLE_END
ALERT_NAME = "Win <i>rate</i> & co"

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="no Chromium: apt-get install chromium (.ci/run does)"
)


@pytest.fixture(scope="module")
def reports(sample_dir, tmp_path_factory) -> Path:
    """One pack (summary page, HTML and PDF) for the company and a hostile team name, with
    an alerts file: an alert for the company, none for the team."""
    base = tmp_path_factory.mktemp("send")
    data = base / "data"
    shutil.copytree(sample_dir, data)
    for csv in data.glob("*.csv"):
        text = csv.read_text(encoding="utf-8")
        csv.write_text(text.replace("Partners & Alliances", TEAM), encoding="utf-8")
    out = base / "reports"
    path, outcomes = build_pack(
        SAMPLE_END,
        scopes=f"company,{TEAM_SCOPE}",
        families=["summary"],
        formats=("html", "pdf"),
        out=out,
        source=str(data),
        progress=False,
    )
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    alert = dict(kpi="win_rate", name=ALERT_NAME, scope="company", scope_label="Company",
                 month=SAMPLE_END, value=18.2, value_text="18.2 %", rule="below 20.0 %",
                 kind="below")  # fmt: skip
    (path / "data" / ALERTS_FILE).write_text(json.dumps({"alerts": [alert]}), encoding="utf-8")
    return out


def send(reports: Path, *args: str, month: str = SAMPLE_END) -> int:
    return main(["send", "--month", month, "--reports", str(reports), *args])


def _tree(part) -> list:
    if part.is_multipart():
        return [part.get_content_type(), [_tree(p) for p in part.iter_parts()]]
    return part.get_content_type()


def _snapshot_row(reports: Path, scope: str, kpi: str) -> pd.Series:
    df = pd.read_parquet(reports / SAMPLE_END / "data" / "kpis.parquet")
    return df[(df["key"] == scope) & (df["kpi"] == kpi) & (df["month"] == SAMPLE_END)].iloc[0]


def test_one_message_per_scope_with_the_mime_tree_cards_charts_and_pdf(reports, smtp, capsys):
    code = send(reports, "--to", "ceo@example.com", "--to", "Ops <ops@example.com>",
                "--smtp", smtp.where, "--from", "kpi@example.com",
                "--link-base", "https://kpi.example.com/reports")  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert len(out.out.strip().splitlines()) == 2 and "KB" in out.out and out.err == ""
    assert len(smtp.received) == 2
    for (mail_from, rcpt, _), msg, scope in zip(
        smtp.received, smtp.messages(), ["company", TEAM_SCOPE], strict=True
    ):
        assert mail_from == "kpi@example.com"
        assert rcpt == ["ceo@example.com", "ops@example.com"]
        assert _tree(msg) == [
            "multipart/mixed",
            [
                ["multipart/alternative", ["text/plain", ["multipart/related",
                 ["text/html", "image/png", "image/png", "image/png"]]]],
                "application/pdf",
            ],
        ]  # fmt: skip
        assert MONTH_LABEL in msg["Subject"]
        assert ("Company" if scope == "company" else f"Team {TEAM}") in msg["Subject"]
        html = msg.get_body(("html",)).get_content()
        assert len(html.encode("utf-8")) < HTML_LIMIT
        assert "data:" not in html
        cids = set(re.findall(r'src="cid:([^"]+)"', html))
        parts = {
            p["Content-ID"].strip("<>") for p in msg.walk() if p.get_content_maintype() == "image"
        }
        assert len(cids) == 3 and cids == parts
        for p in msg.walk():
            if p.get_content_type() == "image/png":
                assert p.get_content()[:4] == b"\x89PNG" and len(p.get_content()) < 40_000
        text = msg.get_body(("plain",)).get_content()
        for kpi in ("sales_revenue", "monthly_sales_bookings", "win_rate"):
            value = format_kpi(get(kpi), _snapshot_row(reports, scope, kpi)["value"])
            assert value in text and value in html, (scope, kpi)
        folder = "company" if scope == "company" else "team-b-partners-alliances-b"
        link = f"https://kpi.example.com/reports/{SAMPLE_END}/{folder}/summary.html"
        assert link in text and f'href="{link}"' in html
        assert "data through" in html and "data through" in text
        (pdf,) = [p for p in msg.walk() if p.get_content_type() == "application/pdf"]
        assert pdf.get_filename() == f"sales-kpi-review-{SAMPLE_END}-{folder}.pdf"
        assert pdf.get_content().startswith(b"%PDF")


def test_names_and_alert_text_from_the_data_are_escaped(reports, smtp, capsys):
    assert send(reports, "--to", "a@example.com", "--smtp", smtp.where) == 0
    company, team = smtp.messages()
    html = team.get_body(("html",)).get_content()
    assert "Team &lt;b&gt;Partners &amp; Alliances&lt;/b&gt;" in html
    assert "<b>Partners" not in html
    assert "No alerts" in html and "No alerts" in team.get_body(("plain",)).get_content()
    html = company.get_body(("html",)).get_content()
    assert "Win &lt;i&gt;rate&lt;/i&gt; &amp; co" in html and "<i>rate" not in html
    assert ALERT_NAME in company.get_body(("plain",)).get_content()  # plain text as is


def test_each_message_shows_the_alerts_its_summary_page_shows(reports, tmp_path):
    """The company's mail: its own alerts and a count of the others; a team's mail: the
    team's and its reps' (as on the pack's summary pages)."""
    copy = tmp_path / "reports"
    shutil.copytree(reports / SAMPLE_END, copy / SAMPLE_END)
    team = TEAM_SCOPE.partition(":")[2]
    fired = [
        dict(scope="company", scope_label="Company", name="Sales revenue",
             value_text="$1", rule="below $2", team=""),
        dict(scope=TEAM_SCOPE, scope_label=f"Team {team}", name="Lead response",
             value_text="9.0 %", rule="below 20.0 %", team=""),
        dict(scope="rep:R7", scope_label="Rep R7", name="Calls made",
             value_text="3", rule="below 40", team=team),
    ]  # fmt: skip
    (copy / SAMPLE_END / "data" / ALERTS_FILE).write_text(json.dumps({"alerts": fired}))
    pack = find_pack(copy, SAMPLE_END)
    company = build_message(pack, "company", ["a@example.com"], "k@example.com").message
    text = company.get_body(("plain",)).get_content()
    assert "Sales revenue: $1 — below $2" in text
    assert "2 alert(s) for teams and reps" in text and "Lead response" not in text
    mail = build_message(pack, TEAM_SCOPE, ["a@example.com"], "k@example.com").message
    text = mail.get_body(("plain",)).get_content()
    assert "- Lead response: 9.0 % — below 20.0 %" in text
    assert "- Calls made · Rep R7: 3 — below 40" in text
    assert "below $2" not in text and "No alerts" not in text


def test_no_alerts_file_no_alerts_section(reports, tmp_path):
    copy = tmp_path / "reports"
    shutil.copytree(reports / SAMPLE_END, copy / SAMPLE_END)
    (copy / SAMPLE_END / "data" / ALERTS_FILE).unlink()
    out = build_message(find_pack(copy, "latest"), "company", ["a@example.com"], "k@example.com")
    html = out.message.get_body(("html",)).get_content()
    assert "Alerts" not in html and "No alerts" not in html


def test_a_newline_in_a_team_name_cannot_add_a_header(reports, tmp_path):
    evil = "team:Evil\r\nBcc: victim@example.com"
    copy = tmp_path / "reports"
    shutil.copytree(reports / SAMPLE_END, copy / SAMPLE_END)
    data = copy / SAMPLE_END / "data"
    meta = json.loads((data / SNAPSHOT_FILE).read_text())
    meta["scopes"] = {evil if k == TEAM_SCOPE else k: v for k, v in meta["scopes"].items()}
    (data / SNAPSHOT_FILE).write_text(json.dumps(meta))
    df = pd.read_parquet(data / "kpis.parquet")
    df["key"] = df["key"].replace(TEAM_SCOPE, evil)
    df.to_parquet(data / "kpis.parquet", index=False)
    out = build_message(find_pack(copy, SAMPLE_END), evil, ["a@example.com"], "k@example.com")
    raw = out.message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert parsed["Bcc"] is None and b"\nBcc:" not in headers and b"\nBcc:" not in raw
    assert "Evil Bcc: victim@example.com" in parsed["Subject"]
    assert "\n" not in subject_for("", "team:A\nB", "2026-10")


def test_dry_run_writes_parseable_eml_files_and_sends_nothing(reports, smtp, tmp_path, capsys):
    out_dir = tmp_path / "outbox"
    code = send(reports, "--to", "a@example.com", "--smtp", smtp.where, "--dry-run", str(out_dir))
    assert code == 0 and smtp.received == []
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == [f"{SAMPLE_END}-company.eml", f"{SAMPLE_END}-team-b-partners-alliances-b.eml"]
    for f in out_dir.iterdir():
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        assert msg.get_content_type() == "multipart/mixed" and msg["To"] == "a@example.com"
        assert f.stat().st_mode & 0o077 == 0  # addresses and figures: the owner's only
    assert capsys.readouterr().out.count("KB") == 2
    # no server at all is needed for a dry run
    assert send(reports, "--to", "a@example.com", "--dry-run", str(out_dir)) == 0


def test_the_packs_folder_is_output_in_kpi_toml_unless_reports_is_given(
    reports, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # no reports/ here: the packs are where kpi.toml says
    (tmp_path / "kpi.toml").write_text(f"output = {json.dumps(str(reports))}\n")
    base = ["send", "--month", "latest", "--config", "kpi.toml", "--to", "a@example.com"]
    assert main([*base, "--dry-run", "outbox"]) == 0
    assert (tmp_path / "outbox" / f"{SAMPLE_END}-company.eml").exists()
    # --reports, when given, wins over kpi.toml
    assert main([*base, "--reports", "empty", "--dry-run", "outbox"]) == 2
    assert "No pack under empty/" in _one_error(capsys)


def test_a_refused_recipient_does_not_stop_the_others(reports, smtp, tmp_path, capsys):
    smtp.refuse = {"gone@example.com"}
    rec = tmp_path / "recipients.toml"
    rec.write_text(
        '[recipients]\ncompany = ["gone@example.com"]\n'
        '"team:*" = ["lead@example.com", "gone@example.com"]\n'
    )
    code = send(reports, "--recipients", str(rec), "--smtp", smtp.where)
    out = capsys.readouterr()
    assert code == 1
    assert "FAILED company → gone@example.com: 550" in out.err
    assert f"FAILED {TEAM_SCOPE} → gone@example.com: 550" in out.err
    assert [r for _, r, _ in smtp.received] == [["lead@example.com"]]  # the team's lead got it
    assert f"sent {TEAM_SCOPE}: 1 recipient(s)" in out.out


def test_login_with_the_password_from_the_environment_only(
    reports, smtp, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("KPI_TEST_SMTP_PW", PASSWORD)
    code = send(reports, "--to", "a@example.com", "--scopes", "company", "--smtp", smtp.where,
                "--user", "kpi", "--password", "env:KPI_TEST_SMTP_PW")  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert smtp.logins == [(b"kpi", PASSWORD.encode())] and len(smtp.received) == 1
    assert PASSWORD not in out.out + out.err
    assert PASSWORD.encode() not in smtp.received[0][2]
    send(reports, "--to", "a@example.com", "--user", "kpi", "--password",
         "env:KPI_TEST_SMTP_PW", "--dry-run", str(tmp_path / "eml"))  # fmt: skip
    for f in (tmp_path / "eml").iterdir():
        assert PASSWORD.encode() not in f.read_bytes()
    monkeypatch.setenv("KPI_TEST_SMTP_PW", "wrong-" + PASSWORD)
    code = send(reports, "--to", "a@example.com", "--smtp", smtp.where, "--user", "kpi",
                "--password", "env:KPI_TEST_SMTP_PW")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "refused the login" in err and PASSWORD not in err


def _one_error(capsys) -> str:
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.err, out.err
    return lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--password", "secret", "--user", "u"], "--password takes only env:VAR"),
        (["--password", "env:KPI_NOT_SET_ANYWHERE", "--user", "u"], "is not set"),
        (["--smtp", "nohostport"], "HOST:PORT"),
        (["--from", "not an address"], "is not an e-mail address"),
        (["--scopes", "team:Nowhere"], "company, team:<b>Partners & Alliances</b>"),
        (["--user", "u"], "--user needs --password env:VAR"),
        (
            ["--smtp", "mail.example.com:25", "--user", "u", "--password", "env:HOME"],
            "would send the password unencrypted",
        ),
    ],
)
def test_bad_options_are_one_line_exit_2(reports, smtp, capsys, args, message):
    base = ["--to", "a@example.com", "--smtp", smtp.where]
    assert send(reports, *base, *args) == 2
    line = _one_error(capsys)
    assert message in line and "secret" not in line.replace("--password", "")
    assert smtp.received == []


def test_missing_pack_month_or_pdf_names_the_path_and_the_command(reports, tmp_path, capsys):
    assert send(reports, "--to", "a@example.com", "--smtp", "x:25", month="2001-01") == 2
    line = _one_error(capsys)
    assert str(reports / "2001-01") in line
    assert "kpi-kit pack --month 2001-01 --formats html,pdf" in line
    copy = tmp_path / "reports"
    shutil.copytree(reports / SAMPLE_END, copy / SAMPLE_END)
    (copy / SAMPLE_END / "company" / "pack.pdf").unlink()
    assert send(copy, "--to", "a@example.com", "--dry-run", str(tmp_path / "x")) == 2
    line = _one_error(capsys)
    assert "company/pack.pdf" in line and f"kpi-kit pack --month {SAMPLE_END}" in line
    assert not (tmp_path / "x").exists()  # nothing half-written
    assert send(tmp_path / "empty", "--to", "a@example.com", "--dry-run", "x", month="latest") == 2
    assert "No pack under" in _one_error(capsys)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[recipients\n", "is not valid TOML"),
        ('company = ["a@example.com"]\n', "one [recipients] table"),
        ('[recipients]\ncompany = ["not-an-address"]\n', "[recipients] 'company'"),
        ('[recipients]\ncompany = "a@example.com\\nBcc: b@example.com"\n', "control characters"),
        ('[recipients]\n"team:Atlantis" = ["a@example.com"]\n', "it has company, team:"),
        ("[recipients]\ncompany = [1]\n", "list of addresses"),
    ],
)
def test_bad_recipients_files(reports, tmp_path, capsys, text, message):
    rec = tmp_path / "r.toml"
    rec.write_text(text)
    assert send(reports, "--recipients", str(rec), "--dry-run", str(tmp_path / "x")) == 2
    assert message in _one_error(capsys)


def test_recipients_file_wildcards(reports, tmp_path):
    pack = find_pack(reports, "latest")
    path = tmp_path / "r.toml"
    path.write_text('[recipients]\n"team:*" = ["ops@example.com", "ops@example.com"]\n')
    assert load_recipients(path, pack.snapshot.scopes) == {TEAM_SCOPE: ["ops@example.com"]}
    # a wildcard that matches no scope of this month's pack is not an error (a company
    # pack with --scopes company still goes out with the file used every month)
    path.write_text('[recipients]\ncompany = ["ceo@example.com"]\n"rep:*" = ["r@example.com"]\n')
    assert load_recipients(path, pack.snapshot.scopes) == {"company": ["ceo@example.com"]}


def test_one_address_per_entry_and_passwords_only_from_the_environment():
    assert check_address("Ana <ana@example.com>", "x") == "Ana <ana@example.com>"
    assert check_address('"Doe, Jane" <jd@example.com>', "x") == '"Doe, Jane" <jd@example.com>'
    for two in ("a@example.com, b@example.com", "a@example.com <b@example.com>"):
        with pytest.raises(KitError, match="one address per entry"):
            check_address(two, "[recipients] 'company'")
    with pytest.raises(KitError, match="env:VAR"):
        password_from("plain-password")


def test_the_html_part_stays_under_the_limit(reports, tmp_path):
    copy = tmp_path / "reports"
    shutil.copytree(reports / SAMPLE_END, copy / SAMPLE_END)
    alert = dict(kpi="win_rate", name="W" * 400, scope="company", value_text="1 %", rule="r" * 400)
    alerts = {"alerts": [alert] * 3000}
    (copy / SAMPLE_END / "data" / ALERTS_FILE).write_text(json.dumps(alerts))
    pack = find_pack(copy, SAMPLE_END)
    out = build_message(pack, "company", ["a@example.com"], "k@example.com")
    html = out.message.get_body(("html",)).get_content()
    assert len(html.encode()) < HTML_LIMIT and "2988 more in the pack" in html
    # and content is dropped, lowest priority first, when a message would still be too big
    content = summary_content(pack, "company", out_cfg := Config())  # noqa: E501
    assert out_cfg.company == ""
    content.update(subject="s", links=None, attachment="a.pdf", preheader="")
    full, _, _ = render(content)
    small, text, shown = render(content, limit=len(full.encode()) - 1)
    assert len(small.encode()) < len(full.encode()) and shown["dropped_cards"] >= 1
    assert "more headline KPIs in the pack" in text


def test_notify_sends_the_tail_of_a_log(smtp, tmp_path, capsys):
    log = tmp_path / "build.log"
    log.write_text("".join(f"line {i}\n" for i in range(1, 501)))
    subject = "KPI pack failed\nBcc: x@y.z"
    code = main(["notify", "--to", "ops@example.com", "--subject", subject, "--body-file",
                 str(log), "--smtp", smtp.where, "--from", "cron@example.com"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    (msg,) = smtp.messages()
    assert msg.get_content_type() == "text/plain" and msg["Bcc"] is None
    assert msg["Subject"] == "KPI pack failed Bcc: x@y.z"
    body = msg.get_content().splitlines()
    assert body[2:] == [f"line {i}" for i in range(301, 501)]
    assert main(["notify", "--to", "o@example.com", "--subject", "s", "--body-file",
                 str(tmp_path / "none.log"), "--dry-run", str(tmp_path)]) == 2  # fmt: skip
    assert "does not exist" in _one_error(capsys)


def test_an_unreachable_server_is_one_line_and_nothing_is_sent(reports, capsys):
    port = free_port()  # nothing listens there
    assert send(reports, "--to", "a@example.com", "--smtp", f"127.0.0.1:{port}") == 2
    assert "Could not connect to the SMTP server" in _one_error(capsys)
