"""Files as real exports write them (issue 15, "Real-world files"): a table that cannot be
read stops every command; decimal commas, Windows-1252 text and Excel serial dates are
read right or named; mapping comparisons compare numbers as numbers. Every file is a
few rows written here; every expected value is worked out by hand."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from kpi_helpers.cli import main
from kpi_helpers.core import KitError
from kpi_helpers.data import open_dataset, validate

# Three open deals at the end of 2026-01 (O1, O2, O4) and one won (O3), written the way
# a European Excel exports them: ";" between fields, a decimal comma, a thousands dot.
EURO_DEALS = (
    "opportunity_id;created_at;stage;amount;closed_at;rep_id\n"
    "O1;2026-01-05;proposal;1.234,56;;R1\n"
    "O2;2026-01-10;negotiation;80;;R2\n"
    "O3;2026-01-12;closed_won;2.000,50;2026-01-20;R1\n"
    "O4;2026-01-15;proposal;0,44;;R2\n"
)
# pipeline value at the end of 2026-01: 1234.56 + 80 + 0.44
EURO_PIPELINE = 1315.00
REPS_1252 = "rep_id,rep_name,team\nR1,José Müller,Süd\nR2,Anaïs Œuvray,Nord\n"


def _write(folder, files: dict[str, str | bytes]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def _compute(source, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["compute", "--source", str(source), "--month", "2026-01", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def _value(csv_text: str, kpi: str) -> float:
    rows = [line.split(",") for line in csv_text.splitlines()]
    header = rows[0]
    row = next(r for r in rows[1:] if r[header.index("kpi")] == kpi)
    return float(row[header.index("value")])


# ------------------------------------------------------------ an unreadable table stops


def _broken_orders(folder, kind: str) -> str:
    """Make ``orders`` unreadable in one of the ways a real folder does; the file's name."""
    if kind == "corrupt-parquet":
        (folder / "orders.parquet").write_bytes(b"PAR1 this is not really parquet")
        return "orders.parquet"
    if kind == "binary-csv":
        (folder / "orders.csv").write_bytes(b"order_id,revenue\n\x00\x81\x8d\x00\xff\n")
        return "orders.csv"
    if kind == "folder":
        (folder / "orders.csv").mkdir()
        return "orders.csv"
    if kind == "broken-link":
        (folder / "orders.csv").symlink_to(folder / "exports-2026" / "orders.csv")
        return "orders.csv"
    raise ValueError(kind)


KINDS = ["corrupt-parquet", "binary-csv", "folder", "broken-link"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreadable_table_stops_compute_with_exit_2_naming_the_file(tmp_path, capsys, kind):
    _write(tmp_path, {"opportunities.csv": EURO_DEALS})
    name = _broken_orders(tmp_path, kind)
    code, out, err = _compute(tmp_path, capsys, "--kpi", "sales_revenue")
    assert code == 2
    assert out == ""  # no KPI row, not even a "not available" one
    assert f"orders: {name}" in err
    assert "needs table `orders`" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["forecast", "--kpi", "sales_revenue", "--month", "2026-01"],
        ["clv", "--month", "2026-01"],
        ["pack", "--month", "2026-01", "--formats", "html"],
    ],
    ids=["forecast", "clv", "pack"],
)
def test_every_command_that_reads_the_data_stops_on_an_unreadable_table(tmp_path, capsys, command):
    data = _write(tmp_path / "data", {"opportunities.csv": EURO_DEALS})
    _broken_orders(data, "corrupt-parquet")
    out_dir = ["--out", str(tmp_path / "reports")] if command[0] == "pack" else []
    code = main([*command, "--source", str(data), *out_dir])
    err = capsys.readouterr().err
    assert code == 2
    assert "orders: orders.parquet is not a readable Parquet file" in err
    assert not (tmp_path / "reports").exists()  # the pack stopped before writing anything


def test_a_file_without_read_permission_is_named(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root reads a chmod 000 file; the folder and broken-link cases cover root")
    _write(tmp_path, {"opportunities.csv": EURO_DEALS, "orders.csv": "order_id\nX1\n"})
    (tmp_path / "orders.csv").chmod(0)
    code, _, err = _compute(tmp_path, capsys, "--kpi", "sales_revenue")
    assert code == 2
    assert "orders: orders.csv cannot be read: permission denied" in err


def test_open_dataset_lists_every_unreadable_table_and_validation_keeps_them(tmp_path, capsys):
    _write(tmp_path, {"opportunities.csv": EURO_DEALS})
    _broken_orders(tmp_path, "folder")
    (tmp_path / "reps.parquet").write_bytes(b"not parquet")
    with pytest.raises(KitError) as caught:
        open_dataset(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"2 tables of folder {tmp_path} cannot be read")
    assert "\n  reps: reps.parquet is not a readable Parquet file" in message
    assert "\n  orders: orders.csv is a folder, not a file" in message
    # validate opens the same folder and reports them first, as errors (exit 2)
    assert main(["validate", "--source", str(tmp_path)]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("ERROR   reps: reps.parquet is not a readable Parquet file")
    assert lines[4].startswith("ERROR   orders: orders.csv is a folder, not a file")


# ----------------------------------------------------------------- decimal commas


def test_a_european_export_is_read_with_its_decimal_commas(tmp_path, capsys):
    _write(tmp_path, {"opportunities.csv": EURO_DEALS})
    with open_dataset(tmp_path) as ds:
        amounts = ds.frame("opportunities").sort_values("opportunity_id")["amount"]
        assert amounts.tolist() == [1234.56, 80.0, 2000.50, 0.44]
    code, out, _ = _compute(tmp_path, capsys, "--kpi", "pipeline_value")
    assert code == 0
    assert _value(out, "pipeline_value") == pytest.approx(EURO_PIPELINE)


@pytest.mark.parametrize(
    "amounts, example, readings",
    [
        (
            ["1.500", "2.000", "750"],
            "2 number(s) such as '1.500'",
            "1.500 with a decimal point, 1500 with a thousands",
        ),
        (
            ["1,500", "2", "750"],
            "1 number(s) such as '1,500'",
            "1.500 with a decimal comma, 1500 with a thousands",
        ),
    ],
    ids=["1.500", "1,500"],
)
def test_numbers_that_read_two_ways_are_an_error_naming_the_column(
    tmp_path, capsys, amounts, example, readings
):
    rows = "".join(f"O{i};2026-01-05;proposal;{a};;R1\n" for i, a in enumerate(amounts))
    _write(tmp_path, {"opportunities.csv": EURO_DEALS.splitlines()[0] + "\n" + rows})
    code, out, err = _compute(tmp_path, capsys, "--kpi", "pipeline_value")
    assert code == 2 and out == ""
    assert f"opportunities: opportunities.csv: amount has {example}" in err
    assert readings in err
    assert 'decimal = ","' in err and 'decimal = "."' in err


def test_a_stray_decimal_comma_among_decimal_points_is_a_bad_number_with_the_setting(tmp_path):
    deals = EURO_DEALS.replace("1.234,56", "1234.56").replace("2.000,50", "2000.5")
    _write(tmp_path, {"opportunities.csv": deals})  # O4 keeps 0,44
    with open_dataset(tmp_path) as ds:
        found = validate(ds).set_index("check")
    assert found.loc["bad_number", "examples"] == ["O4"]
    assert 'decimal = ","' in found.loc["bad_number", "fix"]


MAPPED = """
[tables.opportunities]
from = "deals.csv"
{options}
[tables.opportunities.columns]
opportunity_id = "Deal"
created_at = "Opened"
stage = "Stage"
amount = "Value"
[tables.opportunities.derive]
associated_cost = "Value - Discount"
"""
DEALS = (
    "Deal;Opened;Stage;Value;Discount\n"
    "D1;2026-01-05;proposal;1.500;0,5\n"
    "D2;2026-01-06;proposal;2,25;1\n"
)


def test_the_mapping_sets_decimal_and_thousands_for_columns_and_expressions(tmp_path):
    _write(tmp_path, {"deals.csv": DEALS.replace("0,5", "0.5").replace("2,25", "2")})
    # alone, 1.500 and 0.5 say nothing about the file; decimal = "," settles it (thousands
    # default to "." then): 1.500 is 1500, and 0.5 is not a number written that way
    (tmp_path / "m.toml").write_text(MAPPED.format(options='decimal = ","'))
    with open_dataset(tmp_path, tmp_path / "m.toml", keep_unreadable=True) as ds:
        o = ds.frame("opportunities").set_index("opportunity_id")
    assert o["amount"].to_dict() == {"D1": 1500.0, "D2": 2.0}
    assert o["associated_cost"].to_dict() == {"D1": 1500.0 - 0.5, "D2": 1.0}


def test_a_mapped_csv_with_decimal_commas_is_detected_for_columns_and_expressions(tmp_path):
    _write(tmp_path, {"deals.csv": DEALS})
    (tmp_path / "m.toml").write_text(MAPPED.format(options=""))
    with open_dataset(tmp_path, tmp_path / "m.toml") as ds:
        o = ds.frame("opportunities").set_index("opportunity_id")
    assert o["amount"].to_dict() == {"D1": 1500.0, "D2": 2.25}
    assert o["associated_cost"].to_dict() == {"D1": 1499.5, "D2": 1.25}


def test_a_section_without_columns_keeps_the_files_columns(tmp_path, capsys):
    deals = EURO_DEALS.replace("1.234,56", "1.234")  # alone it would read two ways
    deals = deals.replace("2.000,50", "2.000").replace("0,44", "1")
    _write(tmp_path, {"opportunities.csv": deals})
    (tmp_path / "m.toml").write_text(
        '[tables.opportunities]\nfrom = "opportunities.csv"\ndecimal = ","\n'
    )
    code, out, _ = _compute(
        tmp_path, capsys, "--kpi", "pipeline_value", "--mapping", str(tmp_path / "m.toml")
    )
    assert code == 0
    assert _value(out, "pipeline_value") == 1234 + 80 + 1


@pytest.mark.parametrize(
    "options, message",
    [
        ('decimal = ";"', 'decimal must be "." or ",", not \';\''),
        ('decimal = ","\nthousands = ","', "thousands must be one of"),
    ],
)
def test_a_bad_number_setting_names_the_key(tmp_path, options, message):
    _write(tmp_path, {"deals.csv": DEALS})
    (tmp_path / "m.toml").write_text(MAPPED.format(options=options))
    with pytest.raises(KitError, match="m.toml: \\[tables.opportunities\\]: " + message):
        open_dataset(tmp_path, tmp_path / "m.toml")


# ------------------------------------------------------------------- Windows-1252


def test_a_windows_1252_file_is_read_and_noted(tmp_path, capsys):
    _write(
        tmp_path,
        {
            "reps.csv": REPS_1252.encode("cp1252"),
            "opportunities.csv": EURO_DEALS.encode("cp1252"),
        },
    )
    with open_dataset(tmp_path) as ds:
        assert ds.frame("reps")["rep_name"].tolist() == ["José Müller", "Anaïs Œuvray"]
        assert ds.frame("reps")["team"].tolist() == ["Süd", "Nord"]
        findings = validate(ds)
    note = findings[findings["check"] == "encoding"].iloc[0]
    assert (note["severity"], note["table"]) == ("warning", "reps")
    assert note["problem"].startswith("reps.csv is not UTF-8; it was read as Windows-1252")
    assert '[tables.reps] from = "reps.csv", encoding = "cp1252"' in note["fix"]
    assert note["examples"] == ["José Müller", "Süd", "Anaïs Œuvray"]
    # the names come out right in a computed table, written as UTF-8 CSV
    tables = tmp_path / "tables"
    code, _, _ = _compute(tmp_path, capsys, "--kpi", "rep_leaderboard", "--tables", str(tables))
    assert code == 0
    board = pd.read_csv(tables / "rep_leaderboard.csv", encoding="utf-8")
    assert sorted(board["rep_name"]) == ["Anaïs Œuvray", "José Müller"]


def test_a_mapped_windows_1252_file_is_noted_unless_the_mapping_names_the_encoding(tmp_path):
    _write(tmp_path, {"people.csv": REPS_1252.encode("cp1252")})
    section = '[tables.reps]\nfrom = "people.csv"\n{}[tables.reps.columns]\nrep_id = "rep_id"\n'
    section += 'rep_name = "rep_name"\nteam = "team"\n'
    for encoding, notes in [("", 1), ('encoding = "cp1252"\n', 0)]:
        (tmp_path / "m.toml").write_text(section.format(encoding))
        with open_dataset(tmp_path, tmp_path / "m.toml") as ds:
            assert ds.frame("reps")["rep_name"].tolist() == ["José Müller", "Anaïs Œuvray"]
            assert len(ds.load_notes.get("reps", [])) == notes


# ------------------------------------------------------------------ Excel serial dates

ORDERS_XL = "order_id,ordered_at,account_id,revenue\nX1,45567,A1,10\nX2,45567.75,A1,5\nX3,,A1,1\n"


def test_excel_serial_dates_are_read_when_the_mapping_says_so(tmp_path):
    _write(tmp_path, {"orders.csv": ORDERS_XL})
    (tmp_path / "m.toml").write_text(
        '[tables.orders]\nfrom = "orders.csv"\n[tables.orders.dates]\nordered_at = "excel"\n'
    )
    with open_dataset(tmp_path, tmp_path / "m.toml") as ds:
        dates = ds.frame("orders").set_index("order_id")["ordered_at"]
    # Excel counts days from 1899-12-30: 45567 days later is 2024-10-02; .75 is 18:00
    assert dates["X1"] == pd.Timestamp("2024-10-02")
    assert dates["X2"] == pd.Timestamp("2024-10-02 18:00")
    assert pd.isna(dates["X3"])


def test_excel_serial_dates_in_a_workbook_sheet(tmp_path):
    book = tmp_path / "crm.xlsx"
    pd.DataFrame(
        {"order_id": ["X1"], "ordered_at": [45658], "account_id": ["A1"], "revenue": [3.5]}
    ).to_excel(book, sheet_name="orders", index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[tables.orders]\nfrom = "orders"\n[tables.orders.dates]\nordered_at = "excel"\n'
    )
    with open_dataset(book, mapping) as ds:
        assert ds.frame("orders")["ordered_at"].tolist() == [pd.Timestamp("2025-01-01")]


def test_serial_numbers_in_a_date_column_suggest_the_excel_setting(tmp_path):
    _write(tmp_path, {"orders.csv": ORDERS_XL})
    with open_dataset(tmp_path) as ds:
        found = validate(ds).set_index("check")
    assert found.loc["excel_date", "examples"] == ["X1", "X2"]
    assert '[tables.orders.dates] ordered_at = "excel"' in found.loc["excel_date", "fix"]
    assert "bad_date" not in found.index


def test_a_number_column_where_dates_are_expected_is_an_error(tmp_path):
    # Parquet keeps the numbers typed: without a check they became empty dates silently
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame(
        {"order_id": ["X1", "X2"], "ordered_at": [45567, 45568], "account_id": ["A1", "A1"]}
    ).assign(revenue=[1.0, 2.0]).to_parquet(folder / "orders.parquet", index=False)
    with open_dataset(folder) as ds:
        found = validate(ds).set_index("check")
    assert found.loc["excel_date", "severity"] == "error"
    assert found.loc["excel_date", "rows"] == 2
    assert 'ordered_at = "excel"' in found.loc["excel_date", "fix"]


# ------------------------------------------------------------- numbers compare as numbers

COSTS = "Deal,Opened,Stage,Amount,Cost\nD1,2026-01-05,won,9,10\nD2,2026-01-06,won,100,20\n"
WHERE = """
[tables.opportunities]
from = "deals.csv"
where = "{where}"
[tables.opportunities.columns]
opportunity_id = "Deal"
created_at = "Opened"
stage = "Stage"
amount = "Amount"
"""


def _kept(tmp_path, where: str, deals: str = COSTS) -> list[str]:
    _write(tmp_path, {"deals.csv": deals})
    (tmp_path / "m.toml").write_text(WHERE.format(where=where))
    with open_dataset(tmp_path, tmp_path / "m.toml") as ds:
        return sorted(ds.frame("opportunities")["opportunity_id"])


def test_column_to_column_comparisons_compare_numbers(tmp_path):
    # as text '9' > '10' (D1 would be kept); as numbers 9 < 10
    assert _kept(tmp_path, "Amount > Cost") == ["D2"]
    assert _kept(tmp_path, "Cost >= Amount") == ["D1"]
    assert _kept(tmp_path, "Stage == 'won' and Amount > 50") == ["D2"]


@pytest.mark.parametrize(
    "where, deals, shown",
    [
        ("Amount > 'big'", COSTS, "the text 'big'"),
        (
            "Amount > 5",
            COSTS.replace(",100,", ",n/a,"),
            "column 'Amount', which holds text such as 'n/a'",
        ),
        ("Stage < Cost", COSTS, "column 'Stage', which holds text such as 'won'"),
    ],
)
def test_a_number_compared_with_text_is_an_error_naming_the_expression(
    tmp_path, where, deals, shown
):
    with pytest.raises(KitError) as caught:
        _kept(tmp_path, where, deals)
    message = str(caught.value)
    assert f"[tables.opportunities].where: {where!r} compares a number with {shown}" in message
