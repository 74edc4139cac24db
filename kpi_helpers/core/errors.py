"""The one exception type the CLI turns into a readable message (never a traceback), and
the "did you mean" hint that messages about an unknown name carry."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class KitError(Exception):
    """A problem the user can fix: the message names what is wrong and how to fix it."""


class NotAvailable(KitError):
    """A value the data holds no input for (a model with nothing to fit or weigh): shown
    as *not available* with this message as the reason, never as 0."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming up to three close matches of ``word``, or "" when none is close.

    >>> did_you_mean("EMAE", ["EMEA", "APAC"])
    ' (did you mean EMEA?)'
    """
    close = difflib.get_close_matches(word, list(choices), n=3)
    return f" (did you mean {' or '.join(close)}?)" if close else ""
