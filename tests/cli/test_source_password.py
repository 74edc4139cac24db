"""A database URL with its password in it still works, but kpi-kit warns in one line on
stderr, the password never shown: on the command line other users can read it (``ps``),
in kpi.toml the file may be shared or committed. ``env:VAR`` is the way without one."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from conftest import free_port

from kpi_helpers.cli import main

PASSWORD = "pw-Zz91-never-printed"
CLI_WARNING = (
    "kpi-kit {command}: warning: --source {shown} holds a password, and other users of "
    "this machine can read command lines (ps): put the URL in an environment variable and "
    "pass --source env:VAR."
)


def test_a_password_on_the_command_line_warns_and_still_connects(postgres_url, capsys):
    con = ibis.connect(postgres_url)
    con.create_table(
        "reps",
        pd.DataFrame(
            {"rep_id": ["R1"], "name": ["Ana"], "team": ["EMEA"], "hired_at": ["2024-01-02"]}
        ),
    )
    con.disconnect()
    code = main(["validate", "--source", postgres_url])
    out, err = capsys.readouterr()
    user, rest = postgres_url.split("://", 1)[1].split("@", 1)
    shown = f"postgresql://{user.split(':')[0]}:***@{rest}"
    assert err.splitlines()[0] == CLI_WARNING.format(command="validate", shown=shown)
    assert len(err.splitlines()) == 1  # the warning, nothing else
    assert code in (0, 1) and f"Validation of {shown}" in out  # it connected and read
    assert "kit-secret-pw" not in out + err  # the test server's password


def _refused_url() -> str:
    """A URL with a password to a port where nothing listens: the connection fails."""
    return f"postgresql://kit:{PASSWORD}@127.0.0.1:{free_port()}/sales"


@pytest.mark.parametrize("command", ["validate", "compute", "pack"])
def test_the_warning_comes_before_a_connection_error(command, capsys):
    url = _refused_url()
    month = [] if command == "validate" else ["--month", "2026-01"]
    assert main([command, "--source", url, *month]) == 2
    err = capsys.readouterr().err
    shown = url.replace(PASSWORD, "***")
    lines = err.splitlines()
    assert lines[0] == CLI_WARNING.format(command=command, shown=shown)
    assert lines[1].startswith(f"kpi-kit {command}: Could not connect to {shown}: ")
    assert PASSWORD not in err


@pytest.mark.parametrize("command", ["compute", "pack"])
def test_a_password_in_kpi_toml_warns_too(command, tmp_path, capsys):
    url = _refused_url()
    config = tmp_path / "kpi.toml"
    config.write_text(f'source = "{url}"\n')
    assert main([command, "--config", str(config), "--month", "2026-01"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f"kpi-kit {command}: warning: {config}: source {url.replace(PASSWORD, '***')} holds "
        "a password in plain text, and the file may be shared or committed: put the URL in "
        'an environment variable and write source = "env:VAR".'
    )
    assert PASSWORD not in err


def test_env_var_and_a_url_without_password_do_not_warn(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SALES_DB", _refused_url())
    assert main(["validate", "--source", "env:SALES_DB"]) == 2
    no_password = f"postgresql://kit@127.0.0.1:{free_port()}/sales"
    assert main(["validate", "--source", no_password]) == 2
    err = capsys.readouterr().err
    assert "warning" not in err and PASSWORD not in err
    assert len(err.splitlines()) == 2  # the two connection errors only
