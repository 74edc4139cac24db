"""Screenshot of the summary e-mail as a reader sees it: ``docs/email-summary.png``.

Builds the company's summary message from a built pack, sends it through a real SMTP
server on 127.0.0.1 (aiosmtpd, in this process), parses what arrived, writes its HTML
with the ``cid:`` images saved beside it (rewritten to file names in a temporary copy,
for rendering only), and renders that in headless Chromium at a 600 px mail column.
Prints the message's total size, the HTML part's and each image's. Example::

    kpi-kit sample-data --out /tmp/send-sample --seed 7
    kpi-kit pack --month latest --source /tmp/send-sample --families summary,revenue \\
        --formats html,pdf --out /tmp/send-reports
    python benchmarks/email_screenshot.py --reports /tmp/send-reports --month latest
"""

from __future__ import annotations

import argparse
import email
import email.policy
import socket
import tempfile
from pathlib import Path

from aiosmtpd.controller import Controller

from kpi_helpers.mail import SmtpSettings, build_message, deliver, find_pack
from kpi_helpers.pack import CHROMIUM_ARGS, find_chromium

ROOT = Path(__file__).resolve().parents[1]


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd)
        self.messages.append(envelope.content)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", default="/tmp/send-reports")
    parser.add_argument("--month", default="latest")
    parser.add_argument("--scope", default="company")
    parser.add_argument("--out", default=str(ROOT / "docs" / "email-summary.png"))
    parser.add_argument(
        "--widths",
        default="640,390",
        help="windows to show side by side, in CSS pixels (default: a desktop and a phone)",
    )
    args = parser.parse_args()

    pack = find_pack(args.reports, args.month)
    out = build_message(
        pack,
        args.scope,
        ["Sales leadership <leaders@example.com>"],
        "kpi-kit@example.com",
        link_base="https://kpi.example.com/reports",
    )
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        settings = SmtpSettings.parse(f"127.0.0.1:{port}", sender="kpi-kit@example.com")
        outcomes = deliver(settings, [out])
    finally:
        server.stop()
    assert outcomes[0].ok and len(inbox.messages) == 1, outcomes
    raw = inbox.messages[0]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    html_part = msg.get_body(("html",))
    html = html_part.get_content()
    print(f"subject      {msg['Subject']}")
    print(f"message      {len(raw) / 1024:8.1f} KB (with the PDF)")
    print(f"HTML part    {len(html.encode('utf-8')) / 1024:8.1f} KB")
    with tempfile.TemporaryDirectory(prefix="kpi-email-") as tmp:
        folder = Path(tmp)
        for part in msg.walk():
            if part.get_content_type() == "image/png":
                cid = part["Content-ID"].strip("<>")
                name = part.get_filename()
                data = part.get_content()
                (folder / name).write_bytes(data)
                html = html.replace(f"cid:{cid}", name)  # the rendering copy only
                print(f"image        {len(data) / 1024:8.1f} KB  {name}")
            elif part.get_content_type() == "application/pdf":
                size = len(part.get_content()) / 1024
                print(f"PDF          {size:8.1f} KB  {part.get_filename()}")
        page_file = folder / "message.html"
        page_file.write_text(html, encoding="utf-8")
        render(page_file, Path(args.out), [int(w) for w in args.widths.split(",")])
    print(f"Wrote {args.out} ({Path(args.out).stat().st_size / 1024:.0f} KB)")


def render(page_file: Path, png: Path, widths: list[int]) -> None:
    """Full-page screenshots of a local HTML file in headless Chromium (network blocked),
    one per window width, side by side in one PNG."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("No Chromium: apt-get install chromium")
    shots = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        for width in widths:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.route("http*://**", lambda route: route.abort())
            page.goto(page_file.as_uri(), wait_until="load")
            shot = page_file.with_name(f"shot-{width}.png")
            page.screenshot(path=str(shot), full_page=True)
            shots.append(Image.open(shot).convert("RGB"))
        browser.close()
    gap = 24
    sheet = Image.new(
        "RGB",
        (sum(s.width for s in shots) + gap * (len(shots) - 1), max(s.height for s in shots)),
        "#ffffff",
    )
    x = 0
    for shot in shots:
        sheet.paste(shot, (x, 0))
        x += shot.width + gap
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(f".{png.name}.part")
    # a palette of 128 colours keeps text crisp and the file small for the repository
    sheet.quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(
        tmp, format="PNG", optimize=True
    )
    tmp.replace(png)


if __name__ == "__main__":
    main()
