"""The mail layer: one summary e-mail per scope of a built pack (:mod:`.compose`), sent
over SMTP or written as .eml files (:mod:`.smtp`).
"""

from .compose import (
    HTML_LIMIT,
    build_message,
    find_pack,
    load_recipients,
    notify_message,
    pick_scopes,
    render,
    subject_for,
    summary_content,
)
from .smtp import SmtpSettings, check_address, deliver, password_from, write_eml

__all__ = [
    "HTML_LIMIT",
    "SmtpSettings",
    "build_message",
    "check_address",
    "deliver",
    "find_pack",
    "load_recipients",
    "notify_message",
    "password_from",
    "pick_scopes",
    "render",
    "subject_for",
    "summary_content",
    "write_eml",
]
