"""The explorer layer: a JupyterLab explorer over a pack's numbers (``notebooks/explore.ipynb``,
``kpi-kit explore reports/2026-11``).

It reads a pack's snapshot through the pages' own :class:`~kpi_helpers.report.Report`, so
its numbers are the pack's; without a pack it computes a snapshot live from a source, once
per (source, month). Widgets in :mod:`.widgets`, what they show in :mod:`.numbers`, the
trend's SVG in :mod:`.trend`, where the numbers come from in :mod:`.sources`
(``open_explorer``, what the notebook calls), starting JupyterLab in :mod:`.lab`.

Only :mod:`.lab` loads with the package (the command line imports it as it starts); a
notebook imports ``from kpi_helpers.explore.sources import open_explorer``.
"""

from .lab import EXPLORE_NOTEBOOK, PACK_ENV, add_command, lab_command, latest_pack

__all__ = ["EXPLORE_NOTEBOOK", "PACK_ENV", "add_command", "lab_command", "latest_pack"]
