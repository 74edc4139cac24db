"""The sales KPI report kit.

The package follows the flow of the data, one folder a layer; a layer imports only the
layers below it (``make test`` runs import-linter to keep it so)::

    cli        the kpi-kit command line
    mail       the summary e-mail: composing, SMTP
    pack       building a month's review pack: snapshot, notebook runs, rendering, keys
    report     what a page shows: charts, page layout, the snapshot reader, ``Report``
    alerts     threshold rules of kpi.toml: parsing, checking
    kpis       the analyst API: ``kpis.compute``, ``kpis.series``, ``kpis.table``
    models     fitted models: forecasts, the pipeline forecast, predictive CLV
    metrics    scopes, measures and the engine that computes the catalog
    data       the data contract, sources, mappings, validation, sample data, init
    catalog    every KPI's definition, unit and direction; how values read
    core       errors, months, kpi.toml, files, resources, the kit's version

Importing the package loads none of them; analysts start with (the short names
``open_dataset``, ``Report``, ``charts``, ``Month`` and ``KitError`` load on first use)::

    from kpi_helpers import kpis, open_dataset
    ds = open_dataset("data/sample")
    kpis.compute(ds, "latest", scope="team")
"""

from importlib import import_module

# Short names for analysts and custom pages (``from kpi_helpers import charts, Report``),
# imported on first use, not here: ``import kpi_helpers`` stays free of Ibis and
# matplotlib, and each name loads only its own layer.
SHORTCUTS = {
    "KitError": "kpi_helpers.core",
    "Month": "kpi_helpers.core",
    "open_dataset": "kpi_helpers.data",
    "Report": "kpi_helpers.report",
    "charts": "kpi_helpers.report",
}

__all__ = ["kpis", *SHORTCUTS]


def __getattr__(name: str):
    if name in SHORTCUTS:
        return getattr(import_module(SHORTCUTS[name]), name)
    raise AttributeError(f"module 'kpi_helpers' has no attribute {name!r}")
