"""Builds the wheel's package data: the page notebooks and the templates.

They stay at the top of the source tree (``notebooks/``, ``templates/``: the design
card's layout); a wheel carries copies of them inside the package, as
``kpi_helpers/resources/notebooks`` and ``kpi_helpers/resources/templates``, where
``kpi_helpers.core.resources`` looks first. Everything else is in ``pyproject.toml``.

An editable install (``pip install -e .``) copies nothing: it keeps reading the
top-level folders.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
TARGET = Path("kpi_helpers", "resources")
# folder at the top of the source tree -> the files of it the wheel carries
RESOURCES = {"notebooks": "*.ipynb", "templates": "**/*"}


def resource_files() -> dict[Path, Path]:
    """Each file to carry (in the source tree) and its path in the package."""
    files = {}
    for folder, pattern in RESOURCES.items():
        source = ROOT / folder
        found = [
            p
            for p in sorted(source.glob(pattern))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
        ]
        if not found:
            raise SystemExit(
                f"setup.py: {source} holds none of the kit's {folder} ({pattern}); build the "
                "wheel from the repository's source tree."
            )
        files.update({p: TARGET / folder / p.relative_to(source) for p in found})
    return files


class build_py_with_resources(build_py):
    """``build_py`` that also copies the notebooks and templates into the build folder
    (never into the source tree's package folder)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the editable kit reads the top-level folders
        for source, target in resource_files().items():
            dest = Path(self.build_lib) / target
            self.mkpath(str(dest.parent))
            self.copy_file(str(source), str(dest), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [str(Path(self.build_lib) / t) for t in resource_files().values()]


setup(cmdclass={"build_py": build_py_with_resources})
