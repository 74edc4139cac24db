"""The pages' HTML: the autoescaping page-blocks template and the object Jupyter shows
as is. Every value from the data goes through the template, so it is escaped."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from .pages import TEMPLATES


def reason_parts(reason: str) -> list[tuple[str, bool]]:
    """A not-available reason split into text and `code` parts (table and column names).

    >>> reason_parts("needs table `leads` <b>")
    [('needs table ', False), ('leads', True), (' <b>', False)]
    """
    parts = re.split(r"`([^`]+)`", str(reason))
    return [(p, i % 2 == 1) for i, p in enumerate(parts) if p]


@cache
def blocks() -> Any:
    """The page blocks template's macros (Jinja2, autoescape on)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True
    )
    return env.get_template("page_blocks.html.j2").module


class HTML:
    """HTML that Jupyter displays (and nbconvert embeds) as is: only ever the output of
    the autoescaping page-blocks template."""

    def __init__(self, text: str):
        self.text = str(text)

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text
