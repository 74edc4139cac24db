"""kpi.toml is a checked schema (kpi_helpers.core.config): every key has a type and a
range, an unknown key is an error with a "did you mean", a wrong value names the key,
the value and what is expected, and all the problems of a file come in one message."""

from __future__ import annotations

import pytest

from kpi_helpers.cli import main
from kpi_helpers.core import DEFAULT_STAGE_PROBABILITY, Config, KitError, load_config


def config_file(tmp_path, text: str):
    path = tmp_path / "kpi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problem(tmp_path, text: str) -> str:
    """The message load_config raises for a kpi.toml holding ``text``."""
    with pytest.raises(KitError) as caught:
        load_config(config_file(tmp_path, text))
    return str(caught.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ('curency = "EUR"\n', "kpi.toml: unknown setting 'curency' (did you mean currency?)."),
        (
            "customer_lookback_day = 30\n",
            "kpi.toml: unknown setting 'customer_lookback_day' "
            "(did you mean customer_lookback_days?).",
        ),
        ("[rag]\ngren = 110\n", "kpi.toml: unknown setting [rag] 'gren' (did you mean green?)."),
        (
            '[pack]\nnotbooks = "my_pages"\n',
            "kpi.toml: unknown setting [pack] 'notbooks' (did you mean notebooks?).",
        ),
        # a table's key written at the top level: the hint says where it belongs
        ("rag_green = 110\n", "kpi.toml: unknown setting 'rag_green' (did you mean [rag] green?)."),
    ],
)
def test_an_unknown_key_is_an_error_with_did_you_mean(tmp_path, text, message):
    assert problem(tmp_path, text) == message


def test_an_unknown_key_with_nothing_close_lists_the_settings(tmp_path):
    # `file` is an attribute of Config (the file's name, for messages), not a setting
    message = problem(tmp_path, 'file = "other.toml"\n')
    assert message.startswith("kpi.toml: unknown setting 'file'; the settings are company, ")
    assert "[rag] green" in message and "timezone" in message and "alerts" in message


@pytest.mark.parametrize(
    "text, message",
    [
        (
            'customer_lookback_days = "365"\n',
            'customer_lookback_days must be a whole number of days from 1 to 3650, not "365"',
        ),
        (
            "customer_lookback_days = 365.5\n",
            "customer_lookback_days must be a whole number of days from 1 to 3650, not 365.5",
        ),
        (
            "customer_lookback_days = 0\n",
            "customer_lookback_days must be a whole number of days from 1 to 3650, not 0",
        ),
        (
            "currency = 978\n",
            'currency must be a three-letter currency code in quotes, such as "USD" or "EUR", '
            "not 978",
        ),
        (
            'currency = "eur"\n',
            'currency must be a three-letter currency code in quotes, such as "USD" or "EUR", '
            'not "eur" (did you mean EUR?)',
        ),
        ("company = true\n", "company must be text in quotes, not true"),
        (
            'output = ""\n',
            'output must be a path in quotes, from the folder kpi-kit runs in, not ""',
        ),
        (
            "default_probability = 1.5\n",
            "default_probability must be a probability from 0 to 1, not 1.5",
        ),
        (
            '[stage_probability]\n"Contract sent" = 90\n',
            '[stage_probability] "Contract sent" must be a probability from 0 to 1, not 90',
        ),
        (
            'stage_probability = "high"\n',
            '[stage_probability] must be a table of name = a probability from 0 to 1, not "high"',
        ),
        (
            '[rag]\ngreen = "100%"\n',
            '[rag] green must be an attainment in % from 0 to 1000, not "100%"',
        ),
        ("rag = 100\n", "[rag] must be a table (green, amber), not 100"),
        (
            "clv_discount_rate = true\n",
            "clv_discount_rate must be a monthly rate from 0 to below 1 (0.01 for 1 % a "
            "month), not true",
        ),
        (
            'timezone = "Europe/Berln"\n',
            'timezone must be an IANA time zone name in quotes, such as "Europe/Berlin" or '
            '"UTC", not "Europe/Berln" (did you mean Europe/Berlin',
        ),
        (  # a file of the zone folder, not a zone: the computer's own zone must not matter
            'timezone = "localtime"\n',
            'timezone must be an IANA time zone name in quotes, such as "Europe/Berlin" or '
            '"UTC", not "localtime"',
        ),
    ],
)
def test_a_wrong_value_names_the_key_the_value_and_what_is_expected(tmp_path, text, message):
    assert problem(tmp_path, text).startswith(f"kpi.toml: {message}")


@pytest.mark.parametrize(
    "value, message",
    [
        ("13", "fiscal_year_start must be a month number from 1 to 12, not 13"),
        ('"April"', 'fiscal_year_start must be a month number from 1 to 12, not "April"'),
    ],
)
def test_fiscal_year_start_is_a_month_number(tmp_path, value, message):
    assert problem(tmp_path, f"fiscal_year_start = {value}\n").startswith(f"kpi.toml: {message}")
    assert load_config(config_file(tmp_path, "fiscal_year_start = 4\n")).fiscal_year_start == 4


def test_good_values_are_kept_as_the_kit_uses_them(tmp_path):
    cfg = load_config(
        config_file(
            tmp_path,
            'company = "Acme"\ncurrency = "EUR"\ncustomer_lookback_days = 30\n'
            'clv_max_years = 5\ntimezone = "America/New_York"\noutput = "packs"\n'
            '[stage_probability]\n"Contract sent" = 1\nproposal = 0.6\n'
            "[rag]\ngreen = 110\namber = 95\n",
        )
    )
    assert (cfg.company, cfg.currency, cfg.customer_lookback_days) == ("Acme", "EUR", 30)
    assert cfg.clv_max_years == 5.0 and isinstance(cfg.clv_max_years, float)
    assert (cfg.timezone, cfg.output, cfg.file) == ("America/New_York", "packs", "kpi.toml")
    # the file's stages join the defaults; a whole 1 is the probability 1.0
    assert cfg.stage_probability == {
        **DEFAULT_STAGE_PROBABILITY,
        "Contract sent": 1.0,
        "proposal": 0.6,
    }
    assert (cfg.rag_green, cfg.rag_amber) == (110.0, 95.0)
    assert load_config(None) == Config()  # no file: the defaults


def test_every_problem_of_the_file_in_one_message_and_exit_2(tmp_path, capsys):
    path = config_file(tmp_path, 'curency = "EUR"\ncustomer_lookback_days = "365"\n')
    assert main(["alerts", "--month", "latest", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "kpi-kit alerts: kpi.toml has 2 problems:\n"
        "  - unknown setting 'curency' (did you mean currency?).\n"
        "  - customer_lookback_days must be a whole number of days from 1 to 3650, "
        'not "365".\n'
    )


def test_a_config_made_in_python_is_checked_the_same_way():
    with pytest.raises(KitError, match="clv_discount_rate must be a monthly rate"):
        Config(clv_discount_rate=1.5)
    with pytest.raises(KitError, match=r"\[rag\] amber \(95\) must not be above green \(90\)"):
        Config(rag_green=90, rag_amber=95)
    assert Config(clv_max_years=2).clv_max_years == 2.0
