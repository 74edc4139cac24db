"""The monthly schedule in ``examples/schedule/``: the script cron, systemd and CI run
builds last month's pack and mails it, or mails the failure to the operator; the three
schedulers all say "the 2nd of the month"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SMTP_PASSWORD

from kpi_helpers.core import Month
from kpi_helpers.data.sample_data import generate
from kpi_helpers.pack import find_chromium, read_build_log
from kpi_helpers.report import month_label

SCHEDULE = ROOT / "examples" / "schedule"
needs_chromium = pytest.mark.skipif(
    find_chromium() is None, reason="no Chromium: apt-get install chromium (.ci/run does)"
)
KIT = Path(sys.executable).parent / "kpi-kit"
LAST_MONTH = str(Month.previous())


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> Path:
    """A company folder as the schedule finds it: data up to last month, kpi.toml with an
    alert that fires, recipients.toml."""
    root = tmp_path_factory.mktemp("monthly")
    generate(root / "export", seed=5, scale="small", months=14, end_month=LAST_MONTH)
    (root / "kpi.toml").write_text(
        'source = "export"\ncompany = "Acme <Sales>"\n'
        '[[alerts]]\nkpi = "new_leads"\nscope = "company"\nabove = 0\n',
        encoding="utf-8",
    )
    (root / "recipients.toml").write_text(
        '[recipients]\ncompany = ["ceo@example.com"]\n', encoding="utf-8"
    )
    return root


def monthly(folder: Path, smtp, **settings: str) -> subprocess.CompletedProcess:
    """Run ``monthly.sh`` in ``folder`` as a scheduler would: settings in the environment."""
    env = dict(
        os.environ,
        KPI_KIT=str(KIT),
        KPI_SMTP=smtp.where,
        KPI_SMTP_SECURITY="",  # the test server speaks plain SMTP
        KPI_OPERATOR="ops@example.com",
        KPI_FROM="kpi@example.com",
        KPI_PACK_OPTIONS="--scopes company --families summary --formats html,pdf",
        **settings,
    )
    return subprocess.run(
        ["bash", str(SCHEDULE / "monthly.sh")],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@needs_chromium
def test_the_monthly_run_builds_last_month_and_mails_it(company, smtp):
    run = monthly(company, smtp, KPI_SMTP_USER="kpi", KPI_SMTP_PASSWORD=SMTP_PASSWORD)
    assert run.returncode == 0, run.stderr
    assert SMTP_PASSWORD not in run.stdout + run.stderr
    assert smtp.logins == [(b"kpi", SMTP_PASSWORD.encode())]
    ((sender, rcpt, _),) = smtp.received
    assert (sender, rcpt) == ("kpi@example.com", ["ceo@example.com"])
    (message,) = smtp.messages()
    assert message["Subject"] == f"Acme <Sales> KPI review · Company · {month_label(LAST_MONTH)}"
    html = message.get_body(("html",)).get_content()
    assert "Acme &lt;Sales&gt;" in html and "Lead delivery (new leads)" in html
    pdf = next(p for p in message.iter_attachments() if p.get_content_type() == "application/pdf")
    assert pdf.get_content().startswith(b"%PDF") and LAST_MONTH in pdf.get_filename()

    # the same run again (a retry the same day): nothing is rebuilt, the mail goes again
    again = monthly(company, smtp, KPI_SMTP_USER="kpi", KPI_SMTP_PASSWORD=SMTP_PASSWORD)
    assert again.returncode == 0, again.stderr
    assert all(p["reused"] for p in read_build_log(company / "reports" / LAST_MONTH)["pages"])
    assert len(smtp.received) == 2


def test_a_failed_build_mails_the_log_to_the_operator_and_nobody_else(company, smtp, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(company / "recipients.toml", broken)
    (broken / "kpi.toml").write_text('source = "export-that-is-not-there"\n', encoding="utf-8")
    run = monthly(broken, smtp)
    assert run.returncode == 1
    assert "mailing the log to ops@example.com" in run.stderr
    ((_, rcpt, _),) = smtp.received
    assert rcpt == ["ops@example.com"]
    (message,) = smtp.messages()
    assert message["Subject"].startswith("Sales KPI pack: the build of last month's pack failed")
    body = message.get_body(("plain",)).get_content()
    assert "export-that-is-not-there does not exist" in body
    assert not (broken / "reports" / LAST_MONTH).exists()


@needs_chromium
def test_a_failed_send_is_mailed_to_the_operator(company, smtp, tmp_path):
    """The pack builds but a recipient is refused: the rest is sent, the operator hears."""
    smtp.refuse.add("ceo@example.com")
    run = monthly(company, smtp)
    assert run.returncode == 1
    assert [r for _, r, _ in smtp.received] == [["ops@example.com"]]
    body = smtp.messages()[0].get_body(("plain",)).get_content()
    assert "FAILED company → ceo@example.com" in body


def test_every_scheduler_runs_on_the_2nd_of_the_month():
    cron = [
        line.split()
        for line in (SCHEDULE / "crontab").read_text().splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert [fields[:5] for fields in cron] == [["0", "6", "2", "*", "*"]]
    assert "examples/schedule/monthly.sh" in " ".join(cron[0])

    timer = (SCHEDULE / "kpi-kit-monthly.timer").read_text()
    (calendar,) = [x.split("=", 1)[1] for x in timer.splitlines() if x.startswith("OnCalendar=")]
    assert calendar == "*-*-02 06:00:00 Europe/London"
    service = (SCHEDULE / "kpi-kit-monthly.service").read_text()
    assert "ExecStart=/srv/kpi-kit/examples/schedule/monthly.sh" in service

    workflow = yaml.safe_load((SCHEDULE / "github-actions.yml").read_text())
    assert workflow[True]["schedule"] == [{"cron": "0 6 2 * *"}]  # YAML 1.1 reads "on" as True
    steps = workflow["jobs"]["pack"]["steps"]
    assert any(s.get("run") == "examples/schedule/monthly.sh" for s in steps)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_understands_the_timer():
    timer = (SCHEDULE / "kpi-kit-monthly.timer").read_text()
    (calendar,) = [x.split("=", 1)[1] for x in timer.splitlines() if x.startswith("OnCalendar=")]
    done = subprocess.run(
        ["systemd-analyze", "calendar", "--iterations=2", calendar], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    nexts = [line for line in done.stdout.splitlines() if "elapse:" in line or "Iter." in line]
    assert len(nexts) == 2 and all("-02 " in line for line in nexts)
