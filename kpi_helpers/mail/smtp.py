"""Sending e-mail for ``kpi-kit send`` and ``kpi-kit notify``: the SMTP options, the
addresses, one connection for every message, and ``--dry-run`` files.

The password is only ever read from the environment (``--password env:VAR``), held in
memory for ``SMTP.login`` and never printed, logged or written. One message failing (a
refused recipient, a dropped connection) does not stop the others: each outcome is
reported and the caller turns failures into exit code 1. Example::

    settings = SmtpSettings.parse("mail.example.com:587", starttls=True, user="kpi",
                                  password="env:KPI_SMTP_PASSWORD", sender="kpi@example.com")
    outcomes = deliver(settings, [Outgoing("company", message, ["ceo@example.com"])])
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path

from kpi_helpers.core import KitError, write_bytes

TIMEOUT = 30.0  # seconds: connecting, and every command after
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def one_line(text: str) -> str:
    """Text safe for a header: control characters (CR, LF, tab...) become one space.

    >>> one_line("Team A\\r\\nBcc: x@example.com")
    'Team A Bcc: x@example.com'
    """
    return CONTROL.sub(" ", str(text)).strip()


def check_address(text: str, where: str) -> str:
    """``text`` as one valid address (``a@example.com`` or ``Name <a@example.com>``), in
    the form a header holds it; KitError naming ``where`` (e.g. the recipients file's
    entry) for anything else, two addresses in one entry included.

    >>> check_address("Ana <ana@example.com>", "--to")
    'Ana <ana@example.com>'
    """
    text = str(text).strip()
    found = getaddresses([text])
    name, addr = found[0] if len(found) == 1 else ("", "")
    problem = ""
    if not text or CONTROL.search(text):
        problem = "it is empty or has control characters"
    elif len(found) != 1 or "@" in name or "," in text.replace(f'"{name}"', ""):
        problem = "give one address per entry; a name may not hold an address or a comma"
    elif addr.count("@") != 1 or not addr.split("@")[0] or not addr.split("@")[1]:
        problem = "it is not of the form name@domain"
    else:
        try:
            return str(Address(display_name=name, addr_spec=addr))
        except (ValueError, HeaderParseError, IndexError) as exc:
            problem = str(exc)
    raise KitError(f"{where}: {text!r} is not an e-mail address ({problem}).")


def envelope_address(text: str) -> str:
    """The bare address of ``Name <a@example.com>``, for the SMTP envelope."""
    return parseaddr(text)[1]


def default_sender() -> str:
    """``kpi-kit@<this host's name>``: what ``--from`` defaults to."""
    host = re.sub(r"[^A-Za-z0-9.-]+", "-", socket.getfqdn() or "localhost").strip(".-")
    return f"kpi-kit@{host or 'localhost'}"


def password_from(spec: str | None, resolve: bool = True) -> str | None:
    """The SMTP password named by ``--password env:VAR`` (read from the environment);
    any other form is refused, so a password never sits on a command line or in a shell
    history. ``resolve=False`` checks the form only (``--dry-run`` needs no password).

    >>> os.environ["DOC_PW"] = "s3cret"
    >>> password_from("env:DOC_PW") == "s3cret"
    True
    """
    if spec is None:
        return None
    if not spec.startswith("env:") or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", spec[4:]):
        raise KitError(
            "--password takes only env:VAR, the name of an environment variable that holds "
            "the password (e.g. --password env:KPI_SMTP_PASSWORD); a password on the "
            "command line would be visible to every user of this machine."
        )
    if not resolve:
        return None
    value = os.environ.get(spec[4:])
    if not value:
        raise KitError(f"--password {spec}: the environment variable {spec[4:]} is not set.")
    return value


LOOPBACK = ("localhost", "127.0.0.1", "::1")  # where a login may go without TLS


@dataclass
class SmtpSettings:
    """Where and how to send: server, security, login and the ``From`` address."""

    host: str
    port: int
    security: str = "plain"  # plain, starttls or ssl
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown
    sender: str = ""
    timeout: float = TIMEOUT

    @classmethod
    def parse(
        cls,
        server: str | None,
        starttls: bool = False,
        ssl_: bool = False,
        user: str | None = None,
        password: str | None = None,
        sender: str | None = None,
        dry_run: bool = False,
    ) -> SmtpSettings:
        """The settings from the command line's options (``--smtp HOST:PORT`` ...); a bad
        option is one KitError. With ``dry_run`` no server is needed.

        >>> SmtpSettings.parse("127.0.0.1:2525", sender="kpi@example.com").port
        2525
        """
        if starttls and ssl_:
            raise KitError("--starttls and --ssl exclude each other: pick one.")
        if password and not user:
            raise KitError("--password needs --user (the login name).")
        secret = password_from(password, resolve=not dry_run)
        sender = check_address(sender, "--from") if sender else default_sender()
        if server is None:
            if not dry_run:
                raise KitError("--smtp HOST:PORT is required (or --dry-run DIR to write files).")
            return cls("", 0, user=user, sender=sender)
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise KitError(f"--smtp {server!r}: write it as HOST:PORT, e.g. mail.example.com:587.")
        security = "starttls" if starttls else "ssl" if ssl_ else "plain"
        host = host.strip("[]")
        if user and security == "plain" and host not in LOOPBACK:
            raise KitError(
                f"--user on a plain connection to {host} would send the password unencrypted: "
                "add --starttls (port 587) or --ssl (port 465); only a server on this "
                "machine (localhost) may take a login without them."
            )
        if user and not password and not dry_run:
            raise KitError("--user needs --password env:VAR (the variable holding it).")
        return cls(host, int(port), security, user, secret, sender)

    def where(self) -> str:
        """``HOST:PORT``, for messages."""
        return f"{self.host}:{self.port}"


@dataclass
class Outgoing:
    """One message to send: a label for the report (a scope), the message, the envelope
    recipients (bare addresses), and the file name stem for ``--dry-run``."""

    label: str
    message: EmailMessage
    recipients: list[str]
    name: str = "message"

    @property
    def size(self) -> int:
        """The message's size on the wire, in bytes."""
        return len(self.message.as_bytes())


@dataclass
class Delivery:
    """What happened to one message: ``refused`` maps each address that did not get it
    to the reason (empty when every recipient was accepted)."""

    outgoing: Outgoing
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every recipient got the message."""
        return not self.refused


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, logged-in SMTP connection; KitError (without the password) when the
    server cannot be reached or refuses the login."""
    try:
        if settings.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
        except BaseException:
            smtp.close()
            raise
    except smtplib.SMTPAuthenticationError as exc:
        raise KitError(
            f"The SMTP server {settings.where()} refused the login of {settings.user!r}: "
            f"{exc.smtp_code} {_text(exc.smtp_error)}. Nothing was sent."
        ) from None
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise KitError(
            f"Could not connect to the SMTP server {settings.where()} ({settings.security}): "
            f"{_reason(exc)}. Nothing was sent."
        ) from None
    return smtp


def deliver(
    settings: SmtpSettings,
    messages: Iterable[Outgoing],
    report: Callable[[Delivery], None] | None = None,
) -> list[Delivery]:
    """Send every message over one connection (reconnecting after a drop). A failure
    that concerns one message is its outcome, not an exception; only a first connection
    or login that fails raises KitError (nothing was sent then). ``report`` is called
    after each message."""
    messages = list(messages)
    outcomes: list[Delivery] = []
    smtp: smtplib.SMTP | None = connect(settings) if messages else None
    try:
        for out in messages:
            refused: dict[str, str] = {}
            try:
                if smtp is None:
                    smtp = connect(settings)
                rejected = smtp.send_message(
                    out.message, envelope_address(settings.sender), out.recipients
                )
                refused = {a: f"{c} {_text(m)}" for a, (c, m) in rejected.items()}
            except smtplib.SMTPRecipientsRefused as exc:
                refused = {a: f"{c} {_text(m)}" for a, (c, m) in exc.recipients.items()}
            except smtplib.SMTPResponseException as exc:
                refused = dict.fromkeys(out.recipients, f"{exc.smtp_code} {_text(exc.smtp_error)}")
                smtp = _reset(smtp)
            except (OSError, smtplib.SMTPException, KitError) as exc:
                refused = dict.fromkeys(out.recipients, _reason(exc))
                smtp = _drop(smtp)
            outcome = Delivery(out, refused)
            outcomes.append(outcome)
            if report:
                report(outcome)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return outcomes


def _reset(smtp: smtplib.SMTP | None) -> smtplib.SMTP | None:
    """After a refused transaction: RSET to go on with the same connection, or drop it."""
    if smtp is None:
        return None
    try:
        smtp.rset()
        return smtp
    except (OSError, smtplib.SMTPException):
        return _drop(smtp)


def _drop(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()
    return None


def _text(message: bytes | str) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return one_line(message)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KitError):
        return str(exc)
    text = one_line(str(exc)) or "no reason given"
    return f"{type(exc).__name__}: {text}"


def write_eml(folder: str | Path, name: str, message: EmailMessage) -> Path:
    """Write ``message`` to ``folder/<name>.eml`` atomically (a temporary file renamed
    into place); ``name`` must already be a safe file name stem."""
    target = Path(folder) / f"{name}.eml"
    write_bytes(target, message.as_bytes(), mode=0o600)  # addresses and figures: private
    return target
