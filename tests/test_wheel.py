"""The kit as a wheel: built offline from the tracked source tree (nothing stray or
ignored leaks in), installed without ``-e`` into a fresh virtual environment, and run
from a folder outside the repository: sample data, validate, a one-page pack whose kernel
imports the installed kit, and ``kpi-kit notebooks``.

The fresh environment borrows the heavy dependencies from this one through a ``.pth``
file of plain path lines. Such a line only extends ``sys.path``: the ``.pth`` files in
the borrowed folder do not run, so the editable kpi_helpers of a development install
(a finder hooked in by its own ``.pth``) stays out of sight.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from kpi_helpers.core import kit_version

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
VERSION = PROJECT["version"]
DIST = "kpi_helpers"  # the distribution's name as a wheel file and dist-info spell it


def _pins() -> list[Requirement]:
    lines = (ROOT / "requirements.txt").read_text("utf-8").splitlines()
    return [Requirement(line) for line in (s.split("#")[0].strip() for s in lines) if line]


def _declared() -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in map(Requirement, PROJECT["dependencies"])}


def test_every_pin_lies_in_its_declared_range():
    declared = _declared()
    for pin in _pins():
        (exact,) = pin.specifier  # requirements.txt pins exactly
        assert exact.operator == "==", pin
        dep = declared.get(canonicalize_name(pin.name))
        assert dep is not None, f"{pin.name} is pinned but not in pyproject's dependencies"
        assert dep.extras == pin.extras, (pin, dep)
        assert dep.specifier.contains(exact.version), (pin, dep)


def test_this_environment_meets_the_declared_dependencies():
    """What ``make`` installs satisfies what the wheel asks for (pip check, for the kit)."""
    for dep in _declared().values():
        try:
            found = version(dep.name)
        except PackageNotFoundError:
            pytest.fail(f"{dep} is declared but not installed (requirements.txt?)")
        assert dep.specifier.contains(found, prereleases=True), f"{dep}: {found} installed"


def test_kit_version_is_the_project_version():
    try:
        distribution("kpi-helpers")
    except PackageNotFoundError:
        pytest.skip("kpi-helpers is not installed (make install)")
    # an editable install's metadata is written at install time: `make` reinstalls when
    # pyproject.toml changes
    assert kit_version() == VERSION


# ------------------------------------------------------------------ the wheel, installed

# A custom page that says where its kernel found Python and the kit.
WHERE = (
    "import json, sys, kpi_helpers\n"
    "from kpi_helpers.core import kit_version\n"
    "print('WHERE', json.dumps({'prefix': sys.prefix, 'kit': kpi_helpers.__file__,\n"
    "                           'version': kit_version()}))"
)

# Run by the fresh environment's Python: where the kit and its files come from.
PROBE = """\
import json, sys
from importlib.metadata import distribution
import kpi_helpers
from kpi_helpers.core import kit_version
from kpi_helpers.core.resources import resource_dir
print(json.dumps({
    "prefix": sys.prefix,
    "kit": kpi_helpers.__file__,
    "notebooks": str(resource_dir("notebooks")),
    "templates": str(resource_dir("templates")),
    "version": kit_version(),
    "metadata": str(distribution("kpi-helpers").locate_file("")),
    "finders": [type(f).__module__ for f in sys.meta_path],
}))
"""


def _run(cmd: list, ok: tuple[int, ...] = (0,), **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert done.returncode in ok, (
        f"{' '.join(map(str, cmd))} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done


def _tracked_copy(dest: Path) -> Path:
    """The files git tracks (as they are in the work tree), nothing else."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("builds from a git checkout (git ls-files)")
    listed = _run(["git", "ls-files", "-z"], cwd=ROOT).stdout.split("\0")
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


def _build_wheel(tmp: Path) -> Path:
    setuptools = version("setuptools")
    if Version(setuptools) < Version("70.1"):
        pytest.fail(
            f"setuptools {setuptools} builds no wheel without the `wheel` package: `make "
            "install` installs requirements-test.txt's setuptools"
        )
    src = _tracked_copy(tmp / "src")
    dist = tmp / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check"]
        + ["--no-deps", "--no-index", "--no-build-isolation", "--check-build-dependencies"]
        + ["-w", str(dist), str(src)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, (
        "pip wheel failed (offline, with this environment's setuptools; "
        f"requirements-test.txt pins one that builds wheels):\n{done.stdout}\n{done.stderr}"
    )
    (wheel,) = dist.glob(f"{DIST}-{VERSION}-*.whl")
    return wheel


def _check_contents(wheel: Path) -> None:
    """The package, its presets, copies of the notebooks and templates; nothing else."""
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = _run(["git", "ls-files", "kpi_helpers", "notebooks", "templates"], cwd=ROOT)
    expected = set()
    for rel in tracked.stdout.split():
        if rel.startswith("kpi_helpers/"):
            expected.add(rel)
        elif not rel.startswith("notebooks/") or rel.endswith(".ipynb"):
            expected.add(f"kpi_helpers/resources/{rel}")
    missing = expected - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    info = f"{DIST}-{VERSION}.dist-info/"
    extra = {n for n in names - expected if not n.startswith(info)}
    assert not extra, f"in the wheel but not tracked: {sorted(extra)}"
    assert any(n.startswith("kpi_helpers/data/presets/") for n in names)
    metadata = zipfile.ZipFile(wheel).read(info + "METADATA").decode()
    requires = {
        canonicalize_name(Requirement(line.split(":", 1)[1]).name): Requirement(
            line.split(":", 1)[1]
        )
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    }
    assert requires == _declared()
    scripts = zipfile.ZipFile(wheel).read(info + "entry_points.txt").decode()
    assert "kpi-kit = kpi_helpers.cli:main" in scripts


def _sys_path(python: Path | str) -> list[str]:
    probe = "import json, sys; print(json.dumps(sys.path))"
    return json.loads(_run([python, "-I", "-c", probe]).stdout)


def _fresh_venv(tmp: Path, wheel: Path) -> tuple[Path, list[str]]:
    """A new environment holding the wheel, with this one's dependencies on its path;
    and the borrowed environments' Jupyter data folders (nbconvert's templates, which a
    real install of the dependencies would put in the new environment's share/jupyter)."""
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    # installed before the dependencies are borrowed: pip sees an empty environment
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps"]
        + ["--no-index", "--disable-pip-version-check", wheel]
    )
    own = set(_sys_path(python))
    borrowed = [
        p
        for p in _sys_path(sys.executable)
        if p not in own and Path(p).is_dir() and not (Path(p) / "kpi_helpers").exists()
    ]
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
    (Path(purelib.stdout.strip()) / "_borrowed_dependencies.pth").write_text(
        "".join(f"{p}\n" for p in borrowed), encoding="utf-8"
    )
    # <prefix>/lib/pythonX.Y/site-packages -> <prefix>/share/jupyter
    data = [Path(p).parents[2] / "share" / "jupyter" for p in borrowed if "-packages" in p]
    return venv, list(dict.fromkeys(str(d) for d in data if d.is_dir()))


def _page_notebook(path: Path, code: str, title: str) -> None:
    params = nbformat.v4.new_code_cell('month = "latest"\nscope = "company"\nsnapshot = ""')
    params.metadata["tags"] = ["parameters"]
    cells = [nbformat.v4.new_markdown_cell(f"# {title}"), params, nbformat.v4.new_code_cell(code)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def _inside(path: str, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder.resolve())


def test_the_wheel_installs_and_runs_outside_the_source_tree(tmp_path):
    wheel = _build_wheel(tmp_path)
    _check_contents(wheel)
    venv, jupyter_data = _fresh_venv(tmp_path, wheel)
    kit = venv / "bin" / "kpi-kit"
    work = tmp_path / "work"  # not the repository: nothing there to import or read
    work.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "KPI_KIT_NOTEBOOKS")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [env.get("JUPYTER_PATH"), *jupyter_data]))

    # the kit, its files and its version come from the fresh environment
    where = json.loads(_run([venv / "bin" / "python", "-c", PROBE], cwd=work, env=env).stdout)
    for key in ("prefix", "kit", "notebooks", "templates", "metadata"):
        assert _inside(where[key], venv), (key, where[key])
    assert not any("editable" in f for f in where["finders"]), where["finders"]
    assert Path(where["notebooks"]).parts[-3:] == ("kpi_helpers", "resources", "notebooks")
    assert where["version"] == VERSION

    _run(
        [kit, "sample-data", "--out", "data", "--seed", "7", "--scale", "small"], cwd=work, env=env
    )
    _run([kit, "validate", "--source", "data"], cwd=work, env=env)
    pages = work / "pages"
    pages.mkdir()
    _page_notebook(pages / "whereami.ipynb", WHERE, "Where am I")
    built = _run(
        [kit, "pack", "--month", "latest", "--source", "data", "--formats", "html"]
        + ["--scopes", "company", "--families", "summary,whereami", "--notebooks", "pages"]
        + ["--jobs", "1"],
        cwd=work,
        env=env,
    )
    assert "2 of 2 pages ready" in built.stdout, built.stdout
    index = Path(built.stdout.split("Pack: ", 1)[1].strip())
    assert _inside(str(index), work / "reports") and index.is_file()
    month = index.parent
    assert "<html" in (month / "company" / "summary.html").read_text("utf-8").lower()
    assert "summary.html" in index.read_text("utf-8")
    # the pages' kernel ran the fresh environment's Python with the installed kit
    executed = nbformat.read(month / "company" / "notebooks" / "whereami.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    kernel = json.loads(text.split("WHERE ", 1)[1].splitlines()[0])
    assert _inside(kernel["prefix"], venv) and _inside(kernel["kit"], venv), kernel
    assert kernel["version"] == VERSION

    copied = _run([kit, "notebooks", "nb"], cwd=work, env=env)
    assert "Copied 9 notebooks to nb" in copied.stdout
    for page in (ROOT / "notebooks").glob("*.ipynb"):
        if page.stem == "explore":  # not a page: kpi-kit explore opens it
            continue
        assert (work / "nb" / page.name).read_bytes() == page.read_bytes(), page.name
    again = _run([kit, "notebooks", "nb"], ok=(2,), cwd=work, env=env)
    assert "--force" in again.stderr and "Traceback" not in again.stderr
