"""A realistic, consistent sample dataset with every table of the contract.

Leads convert to opportunities; won deals make customers, orders and
subscriptions; activities belong to reps and deals; NPS answers come from
customers; costs and targets exist per team and month. The data has
seasonality, a growth trend, teams of different strength, reps joining and
leaving, upsells, cross-sells, churn and reactivation. Everything is drawn
with vectorised numpy from one seeded generator, so the same seed, scale and
end month give byte-identical files. Example::

    generate("data/sample", seed=7)
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kpi_helpers.core import KitError, replace_folder

from .contract import TABLES

DAY = 86_400
HOUR = 3_600

TEAMS = [
    # name, volume share, win-rate multiplier, median response hours, NPS base
    ("North America", 0.30, 1.15, 2.0, 8.2),
    ("EMEA", 0.25, 1.00, 4.0, 7.8),
    ("APAC", 0.15, 0.80, 9.0, 7.0),
    ("Mid-Market", 0.18, 1.05, 3.0, 7.6),
    ("Partners & Alliances", 0.12, 0.90, 12.0, 7.3),
]
SOURCES = np.array(["web", "outbound", "referral", "event", "partner"])
SOURCE_P = np.array([0.38, 0.27, 0.12, 0.13, 0.10])
SOURCE_WIN = np.array([0.9, 0.8, 1.4, 1.0, 1.1])
CONTACT_BY_SOURCE = np.array(["email", "call", "meeting", "event", "meeting"])
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])
SEGMENT_P = np.array([0.55, 0.32, 0.13])
SEGMENT_AMOUNT = np.array([6_000.0, 24_000.0, 90_000.0])
SEGMENT_CYCLE = np.array([18.0, 35.0, 60.0])
INDUSTRIES = np.array(
    ["Software", "Retail", "Manufacturing", "Healthcare", "Finance", "Education", "Logistics"]
)
PRODUCTS = np.array(
    [
        "Core Platform",
        "Analytics Add-on",
        "Support Plus",
        "Data Connectors",
        "Training",
        "Hardware Kit",
    ]
)
PRODUCT_P = np.array([0.40, 0.18, 0.12, 0.12, 0.10, 0.08])
SUBSCRIPTION_PRODUCTS = 4  # the first four products are billed monthly
OPEN_STAGES = np.array(["prospecting", "qualification", "proposal", "negotiation"])
STAGE_PROBABILITY = np.array([0.1, 0.2, 0.5, 0.7])
WORDS_A = np.array(
    [
        "Acme",
        "Blue",
        "Northwind",
        "Contoso",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark",
        "Wayne",
        "Hooli",
        "Vandelay",
        "Soylent",
        "Tyrell",
        "Cyberdyne",
        "Wonka",
        "Oscorp",
        "Pied",
        "Aperture",
        "Gringotts",
        "Monarch",
    ]
)
WORDS_B = np.array(
    [
        "Labs",
        "Industries",
        "Foods",
        "Logistics",
        "Systems",
        "Health",
        "Bank",
        "Retail",
        "Works",
        "Partners",
        "Group",
        "Analytics",
        "Motors",
        "Energy",
    ]
)
FIRST = np.array(
    [
        "Ana",
        "Ben",
        "Chloé",
        "Dev",
        "Eva",
        "Femi",
        "Gus",
        "Hana",
        "Ivan",
        "Jo",
        "Kai",
        "Lena",
        "Mo",
        "Nia",
        "Omar",
        "Pia",
        "Quinn",
        "Raj",
        "Sara",
        "Tom",
    ]
)
LAST = np.array(
    [
        "Smith",
        "García",
        "Okafor",
        "Chen",
        "Novak",
        "Müller",
        "Rossi",
        "Kim",
        "Silva",
        "Dubois",
        "O'Neil",
        "Haddad",
        "Jensen",
        "Ito",
        "Kowalski",
    ]
)
# Names a CRM may hold: HTML and quotes must survive escaping in every report.
AWKWARD_NAMES = [
    '<script>alert("x")</script> Ltd',
    "O'Brien & Sons <Holdings>",
    'Ünïcødé GmbH / "Quotes"',
]

SCALES = {
    # leads per month at the start, reps per team on average
    "small": dict(leads=260, reps=6),
    "medium": dict(leads=4_000, reps=40),
    "large": dict(leads=76_000, reps=300),
}
# scales made of several independent parts of another scale, generated and written one
# part at a time (so memory stays at one part's): xlarge is 4 x large, ids prefixed
# "X1-".. "X4-" per part, the monthly tables (costs, targets, financials) added up
CHUNKED = {"xlarge": ("large", 4)}


@dataclass(frozen=True)
class Period:
    months: np.ndarray  # int64 seconds of each month start, plus the end bound last

    @property
    def start(self) -> int:
        return int(self.months[0])

    @property
    def end(self) -> int:
        return int(self.months[-1])

    @property
    def n(self) -> int:
        return len(self.months) - 1

    def month_of(self, t: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.months, t, side="right") - 1


def last_complete_month(today: date | None = None) -> str:
    today = today or date.today()
    return (pd.Timestamp(today).to_period("M") - 1).strftime("%Y-%m")


def _period(end_month: str, months: int) -> Period:
    end = pd.Period(end_month, "M")
    starts = pd.period_range(end - months + 1, end + 1, freq="M").to_timestamp()
    return Period(starts.values.astype("datetime64[s]").astype(np.int64))


def _ids(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pa.array(index, pa.int64()).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def _opt_ids(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    """IDs where ``index >= 0``, null elsewhere."""
    ids = _ids(prefix, np.maximum(index, 0), width)
    return pc.if_else(pa.array(index >= 0), ids, pa.nulls(len(index), pa.string()))


def _ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]")
    mask = None if valid is None else ~np.asarray(valid, bool)
    return pa.array(arr, type=pa.timestamp("s"), mask=mask)


def _date(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    days = (np.asarray(seconds, dtype=np.int64) // DAY).astype(np.int32)
    mask = None if valid is None else ~np.asarray(valid, bool)
    return pa.array(days, type=pa.int32(), mask=mask).cast(pa.date32())


def _money(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64), 2)


class _Generator:
    def __init__(self, seed: int, scale: str, end_month: str, months: int):
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.scale = SCALES[scale]
        self.period = _period(end_month, months)
        self.tables: dict[str, pa.Table] = {}

    # ------------------------------------------------------------------ helpers
    def season(self, month_index: np.ndarray) -> np.ndarray:
        """Seasonality x growth for month indexes (Q4 high, summer low, +2%/month)."""
        starts = self.period.months[np.clip(month_index, 0, self.period.n - 1)]
        moy = pd.DatetimeIndex(starts.astype("datetime64[s]")).month.to_numpy()
        wave = 1 + 0.18 * np.cos(2 * np.pi * (moy - 11) / 12) - 0.08 * (moy == 8)
        return wave * 1.02 ** np.asarray(month_index)

    def rep_at(self, slot: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The rep holding ``slot`` at time ``t`` (each slot is a chain of reps)."""
        key = slot.astype(np.int64) * 10**11 + np.asarray(t, dtype=np.int64)
        return np.searchsorted(self.rep_key, key, side="right") - 1

    # ------------------------------------------------------------------ tables
    def reps(self) -> None:
        rng, p = self.rng, self.period
        rows = []  # (slot, team, hired, left)
        slot = 0
        self.team_slots = []
        for team_index, (_, share, *_rest) in enumerate(TEAMS):
            n_slots = max(2, int(round(self.scale["reps"] * share * len(TEAMS))))
            self.team_slots.append((slot, n_slots))
            for _ in range(n_slots):
                hired = p.start - int(rng.integers(30, 900)) * DAY
                if rng.random() < 0.25:  # a slot that opens during the period
                    hired = p.start + int(rng.integers(0, (p.end - p.start) // DAY // 2)) * DAY
                    rows.append((slot, team_index, p.start - 400 * DAY, hired))  # predecessor
                while True:
                    tenure = int(rng.exponential(900)) * DAY + 120 * DAY
                    left = hired + tenure
                    if left >= p.end:
                        rows.append((slot, team_index, hired, -1))
                        break
                    rows.append((slot, team_index, hired, left))
                    hired = left  # the replacement starts the day the rep leaves
                slot += 1
        rows.sort()
        arr = np.array(rows, dtype=np.int64)
        self.rep_slot, self.rep_team = arr[:, 0], arr[:, 1]
        self.rep_hired, self.rep_left = arr[:, 2], arr[:, 3]
        self.rep_key = self.rep_slot * 10**11 + self.rep_hired
        n = len(arr)
        names = pc.binary_join_element_wise(
            pa.array(FIRST[rng.integers(0, len(FIRST), n)]),
            pa.array(LAST[rng.integers(0, len(LAST), n)]),
            " ",
        )
        team_names = np.array([t[0] for t in TEAMS])
        regions = np.array(["Americas", "EMEA", "APAC", "Americas", "Global"])
        self.tables["reps"] = pa.table(
            {
                "rep_id": _ids("R", np.arange(n), 5),
                "rep_name": names,
                "team": pa.array(team_names[self.rep_team]),
                "region": pa.array(regions[self.rep_team]),
                "hired_at": _date(self.rep_hired),
                "left_at": _date(self.rep_left, self.rep_left >= 0),
            }
        )

    def leads(self) -> None:
        rng, p = self.rng, self.period
        teams = np.arange(len(TEAMS))
        shares = np.array([t[1] for t in TEAMS])
        mi = np.arange(p.n)
        lam = self.scale["leads"] * np.outer(shares, self.season(mi))
        counts = rng.poisson(lam)  # team x month
        team = np.repeat(np.repeat(teams, p.n), counts.ravel())
        month = np.repeat(np.tile(mi, len(TEAMS)), counts.ravel())
        n = len(team)
        span = p.months[month + 1] - p.months[month]
        created = p.months[month] + (rng.random(n) * span).astype(np.int64)
        order = np.argsort(created, kind="stable")  # leads in time order: L0000000 first
        team, month, created = team[order], month[order], created[order]
        slot_start = np.array([s for s, _ in self.team_slots])[team]
        slot_n = np.array([k for _, k in self.team_slots])[team]
        slot = slot_start + (rng.random(n) * slot_n).astype(np.int64)
        rep = self.rep_at(slot, created)
        source = rng.choice(len(SOURCES), n, p=SOURCE_P)
        resp_median = np.array([t[3] for t in TEAMS])[team]
        contacted = rng.random(n) < 0.9
        response = created + (rng.lognormal(np.log(resp_median), 1.1, n) * HOUR).astype(np.int64)
        engaged_ok = contacted & (rng.random(n) < 0.6)
        engaged = response + (rng.exponential(2.0, n) * DAY).astype(np.int64)
        qualified_ok = engaged_ok & (rng.random(n) < 0.55)
        qualified = engaged + (rng.exponential(5.0, n) * DAY).astype(np.int64)
        converted_ok = qualified_ok & (rng.random(n) < 0.7)
        converted = qualified + (rng.exponential(3.0, n) * DAY).astype(np.int64)
        end = p.end
        contacted &= response < end
        engaged_ok &= contacted & (engaged < end)
        qualified_ok &= engaged_ok & (qualified < end)
        converted_ok &= qualified_ok & (converted < end)
        self.lead = dict(
            team=team,
            created=created,
            slot=slot,
            rep=rep,
            source=source,
            converted_ok=converted_ok,
            converted=converted,
            contacted=contacted,
            response=response,
        )
        self.n_leads = n
        # every lead is a prospect account (a company); customers are those that buy
        segment = rng.choice(len(SEGMENTS), n, p=SEGMENT_P)
        self.account_segment, self.account_team, self.account_slot = segment, team, slot
        self.tables["leads"] = pa.table(
            {
                "lead_id": _ids("L", np.arange(n), 7),
                "created_at": _ts(created),
                "source": pa.array(SOURCES[source]),
                "rep_id": _ids("R", rep, 5),
                "first_response_at": _ts(response, contacted),
                "engaged_at": _ts(engaged, engaged_ok),
                "qualified_at": _ts(qualified, qualified_ok),
                "converted_at": _ts(converted, converted_ok),
                "account_id": _ids("A", np.arange(n), 7),
            }
        )
        names = pc.binary_join_element_wise(
            pa.array(WORDS_A[rng.integers(0, len(WORDS_A), n)]),
            pa.array(WORDS_B[rng.integers(0, len(WORDS_B), n)]),
            _ids("#", np.arange(n), 1),
            " ",
        )
        names = names.to_numpy(zero_copy_only=False)
        awkward = np.flatnonzero(converted_ok)[: len(AWKWARD_NAMES)]
        names[awkward] = AWKWARD_NAMES[: len(awkward)]
        self.tables["accounts"] = pa.table(
            {
                "account_id": _ids("A", np.arange(n), 7),
                "account_name": pa.array(names),
                "owner_rep_id": _ids("R", rep, 5),
                "segment": pa.array(SEGMENTS[segment]),
                "industry": pa.array(INDUSTRIES[rng.integers(0, len(INDUSTRIES), n)]),
                "region": self.tables["reps"]["region"].take(pa.array(rep)),
                "created_at": _ts(created),
            }
        )

    def _deals(self, account, created, slot, win_p, amount, product, deal_type, contact):
        """Close or leave open a batch of deals; returns their columns."""
        rng, p = self.rng, self.period
        n = len(account)
        seg = self.account_segment[account]
        cycle = (rng.gamma(2.0, SEGMENT_CYCLE[seg] / 2.0) + 2.0) * DAY
        closed = created + cycle.astype(np.int64)
        won = rng.random(n) < win_p
        is_closed = closed < p.end
        age_frac = np.clip((p.end - created) / cycle, 0, 0.999)
        stage_idx = (age_frac * len(OPEN_STAGES)).astype(int)
        stage = np.where(
            is_closed, np.where(won, "closed_won", "closed_lost"), OPEN_STAGES[stage_idx]
        )
        quoted_ok = np.where(is_closed, rng.random(n) < 0.8, stage_idx >= 2)
        quoted = created + (
            (np.minimum(closed, p.end) - created) * rng.uniform(0.4, 0.9, n)
        ).astype(np.int64)
        return dict(
            account=account,
            created=created,
            slot=slot,
            rep=self.rep_at(slot, created),
            closed=closed,
            is_closed=is_closed,
            won=won & is_closed,
            stage=stage,
            amount=amount,
            product=product,
            deal_type=deal_type,
            contact=contact,
            quoted=quoted,
            quoted_ok=quoted_ok,
            stage_idx=stage_idx,
            cycle=cycle,
        )

    def opportunities(self) -> None:
        rng, lead = self.rng, self.lead
        win_mult = np.array([t[2] for t in TEAMS])
        # new business from converted leads
        li = np.flatnonzero(lead["converted_ok"])
        seg = self.account_segment[li]
        win_p = np.clip(0.32 * win_mult[lead["team"][li]] * SOURCE_WIN[lead["source"][li]], 0, 0.9)
        amount = _money(rng.lognormal(np.log(SEGMENT_AMOUNT[seg]), 0.5))
        product = rng.choice(len(PRODUCTS), len(li), p=PRODUCT_P)
        new = self._deals(
            li,
            lead["converted"][li],
            lead["slot"][li],
            win_p,
            amount,
            product,
            np.zeros(len(li), int),
            CONTACT_BY_SOURCE[lead["source"][li]],
        )
        new["lead"] = li
        # customers: accounts with a won new deal; churn and reactivation per account
        won = new["won"]
        cust = new["account"][won]
        first_won = new["closed"][won]
        first_won_by_acct = np.full(self.n_leads, -1, np.int64)
        first_won_by_acct[cust] = first_won
        life = (rng.exponential(30.0, len(cust)) * 30.4 * DAY).astype(np.int64)
        churn = first_won + life
        react = rng.random(len(cust)) < 0.2
        react_at = churn + (rng.exponential(5.0, len(cust)) * 30.4 * DAY).astype(np.int64)
        rechurn = react_at + (rng.exponential(18.0, len(cust)) * 30.4 * DAY).astype(np.int64)
        self.customer = dict(
            account=cust,
            first_won=first_won,
            churn=churn,
            react=react,
            react_at=react_at,
            rechurn=rechurn,
            product=new["product"][won],
            amount=new["amount"][won],
            first_won_by_acct=first_won_by_acct,
        )
        # expansion deals: upsell / cross-sell / renewal to customers while they are active
        k = rng.poisson(1.3, len(cust))
        ci = np.repeat(np.arange(len(cust)), k)
        created = first_won[ci] + (rng.exponential(150.0, len(ci)) * DAY).astype(np.int64)
        keep = (created < churn[ci]) & (created < self.period.end)
        ci, created = ci[keep], created[keep]
        kind = rng.choice(3, len(ci), p=[0.5, 0.38, 0.12])  # upsell, cross_sell, renewal
        base_product = self.customer["product"][ci]
        other = (base_product + rng.integers(1, len(PRODUCTS), len(ci))) % len(PRODUCTS)
        product = np.where(kind == 1, other, base_product)
        amount = _money(self.customer["amount"][ci] * rng.uniform(0.15, 0.6, len(ci)))
        acct = cust[ci]
        exp = self._deals(
            acct,
            created,
            self.account_slot[acct],
            np.clip(0.55 * win_mult[self.account_team[acct]], 0, 0.9),
            amount,
            product,
            kind + 1,
            np.full(len(ci), "meeting"),
        )
        exp["lead"] = np.full(len(ci), -1)
        d = {key: np.concatenate([new[key], exp[key]]) for key in new}
        order = np.argsort(d["created"], kind="stable")
        d = {key: v[order] for key, v in d.items()}
        self.deal = d
        n = len(order)
        self.n_deals = n
        closed_ok = d["is_closed"]
        prob = np.where(closed_ok, np.nan, STAGE_PROBABILITY[np.minimum(d["stage_idx"], 3)])
        expected = d["created"] + d["cycle"].astype(np.int64)
        expected = np.maximum(expected, self.period.end + 3 * DAY)
        self.deal_expected = expected
        deal_types = np.array(["new", "upsell", "cross_sell", "renewal"])
        self.tables["opportunities"] = pa.table(
            {
                "opportunity_id": _ids("O", np.arange(n), 7),
                "created_at": _ts(d["created"]),
                "stage": pa.array(d["stage"]),
                "amount": pa.array(d["amount"]),
                "closed_at": _ts(d["closed"], closed_ok),
                "rep_id": _ids("R", d["rep"], 5),
                "account_id": _ids("A", d["account"], 7),
                "lead_id": _opt_ids("L", d["lead"], 7),
                "quoted_at": _ts(d["quoted"], d["quoted_ok"]),
                "expected_close_at": _date(expected, ~closed_ok),
                "probability": pa.array(prob, mask=np.isnan(prob)),
                "product": pa.array(PRODUCTS[d["product"]]),
                "deal_type": pa.array(deal_types[d["deal_type"]]),
                "contact_method": pa.array(d["contact"]),
                "associated_cost": pa.array(_money(d["amount"] * rng.uniform(0.02, 0.08, n))),
            }
        )

    def stage_history(self, seed: int) -> None:
        """Each deal's path through the open stages, one row per stage it entered.

        A deal enters stage k of ``OPEN_STAGES`` at created + k/4 of its cycle: an open
        deal reached its current stage, a won deal went through all four, a lost deal
        dropped out after a stage drawn here (more often an early one), and a closed deal
        enters closed_won/closed_lost at its close. The amount and the expected close of
        a row are the deal's own from its last row on; some deals were smaller or larger
        and expected to close earlier before (the slips the movement waterfall shows).
        Drawn from its own generator: the other tables stay as they were without it.
        """
        rng = np.random.default_rng([seed, 19])
        d, n = self.deal, self.n_deals
        lost = d["is_closed"] & ~d["won"]
        drop = rng.choice(len(OPEN_STAGES), n, p=[0.35, 0.3, 0.2, 0.15])
        last = np.where(d["is_closed"], np.where(lost, drop, len(OPEN_STAGES) - 1), d["stage_idx"])
        per_deal = last + 1 + d["is_closed"]
        deal = np.repeat(np.arange(n), per_deal)
        k = np.arange(len(deal)) - np.repeat(np.cumsum(per_deal) - per_deal, per_deal)
        closing = k > last[deal]  # the closed row, after the open stages
        step = (d["cycle"][deal] * k / len(OPEN_STAGES)).astype(np.int64)
        entered = np.where(closing, d["closed"][deal], d["created"][deal] + step)
        stage = np.where(closing, d["stage"][deal], OPEN_STAGES[np.minimum(k, 3)])
        latest = np.r_[deal[1:] != deal[:-1], True]  # each deal's last row
        expected_now = np.where(d["is_closed"], d["closed"], self.deal_expected)
        early = rng.random(n) < 0.4  # deals whose amount or close date moved
        factor = np.where(early, rng.uniform(0.7, 1.3, n), 1.0)
        slip = np.where(rng.random(n) < 0.4, rng.exponential(20.0, n) * DAY, 0).astype(np.int64)
        before = ~latest & (k < 2)  # the rows before the deal's latest estimate
        amount = np.where(before, _money(d["amount"][deal] * factor[deal]), d["amount"][deal])
        expected = expected_now[deal] - np.where(before, slip[deal], 0)
        category = dict(
            prospecting="pipeline",
            qualification="pipeline",
            proposal="best_case",
            negotiation="commit",
            closed_won="closed",
            closed_lost="omitted",
        )
        self.tables["opportunity_stage_history"] = pa.table(
            {
                "opportunity_id": _ids("O", deal, 7),
                "stage": pa.array(stage),
                "entered_at": _ts(entered),
                "amount": pa.array(amount),
                "expected_close_at": _date(expected),
                "forecast_category": pa.array(np.vectorize(category.get)(stage)),
            }
        )

    def _active_spans(self):
        """(account, start, end) spans in which each customer is active (with reactivation)."""
        c, end = self.customer, self.period.end
        acct = np.concatenate([c["account"], c["account"][c["react"]]])
        start = np.concatenate([c["first_won"], c["react_at"][c["react"]]])
        stop = np.concatenate([c["churn"], c["rechurn"][c["react"]]])
        keep = start < end
        return acct[keep], start[keep], np.minimum(stop[keep], end)

    def subscriptions_and_orders(self) -> None:
        rng, p, d = self.rng, self.period, self.deal
        acct, span_start, span_stop = self._active_spans()
        # subscriptions: won deals of subscription products, ended by churn
        won_sub = d["won"] & (d["product"] < SUBSCRIPTION_PRODUCTS)
        s_acct, s_start = d["account"][won_sub], d["closed"][won_sub]
        s_start = (s_start // DAY + 1) * DAY  # starts the day after closing
        s_mrr = _money(d["amount"][won_sub] / 12.0)
        s_product = d["product"][won_sub]
        # each subscription runs until the customer's churn (first span containing start)
        churn_by_acct = np.full(self.n_leads, p.end + 10 * 365 * DAY, np.int64)
        churn_by_acct[self.customer["account"]] = self.customer["churn"]
        before_churn = s_start < churn_by_acct[s_acct]
        s_acct, s_start, s_mrr, s_product = (
            x[before_churn] for x in (s_acct, s_start, s_mrr, s_product)
        )
        s_end = churn_by_acct[s_acct]
        # reactivated customers come back with a new subscription
        c = self.customer
        r = c["react"] & (c["react_at"] < p.end) & (c["product"] < SUBSCRIPTION_PRODUCTS)
        s_acct = np.concatenate([s_acct, c["account"][r]])
        s_start = np.concatenate([s_start, (c["react_at"][r] // DAY) * DAY])
        s_end = np.concatenate([s_end, c["rechurn"][r]])
        s_mrr = np.concatenate([s_mrr, _money(c["amount"][r] / 12.0 * 0.8)])
        s_product = np.concatenate([s_product, c["product"][r]])
        s_end = (s_end + DAY - 1) // DAY * DAY  # ends on a date after the start date
        # a price change is a new row: 12% contract (downgrade) part-way
        down = (rng.random(len(s_acct)) < 0.12) & (s_end - s_start > 90 * DAY)
        cut = s_start + ((s_end - s_start) * rng.uniform(0.3, 0.7, len(s_acct))) // DAY * DAY
        second = np.flatnonzero(down)
        s_acct = np.concatenate([s_acct, s_acct[second]])
        s_start = np.concatenate([s_start, cut[second]])
        s_end_new = np.concatenate([np.where(down, cut, s_end), s_end[second]])
        s_mrr = np.concatenate([s_mrr, _money(s_mrr[second] * 0.7)])
        s_product = np.concatenate([s_product, s_product[second]])
        s_end = s_end_new
        keep = s_start < p.end
        s_acct, s_start, s_end, s_mrr, s_product = (
            x[keep] for x in (s_acct, s_start, s_end, s_mrr, s_product)
        )
        order = np.lexsort((s_acct, s_start))
        s_acct, s_start, s_end, s_mrr, s_product = (
            x[order] for x in (s_acct, s_start, s_end, s_mrr, s_product)
        )
        running = s_end >= p.end
        self.tables["subscriptions"] = pa.table(
            {
                "subscription_id": _ids("S", np.arange(len(s_acct)), 7),
                "account_id": _ids("A", s_acct, 7),
                "started_at": _date(s_start),
                "ended_at": _date(s_end, ~running),
                "mrr": pa.array(s_mrr),
                "product": pa.array(PRODUCTS[s_product]),
            }
        )
        # order lines: (1) one-off won deals invoiced at close, (2) monthly subscription
        # invoices, (3) repeat purchases while active, (4) some returns
        oneoff = d["won"] & (d["product"] >= SUBSCRIPTION_PRODUCTS)
        o1 = dict(
            acct=d["account"][oneoff],
            t=d["closed"][oneoff],
            rev=d["amount"][oneoff],
            product=d["product"][oneoff],
            qty=rng.integers(1, 20, int(oneoff.sum())).astype(float),
        )
        stop = np.minimum(s_end, p.end)
        n_inv = np.maximum(0, np.ceil((stop - s_start) / (30.4 * DAY)).astype(np.int64))
        si = np.repeat(np.arange(len(s_acct)), n_inv)
        k = np.arange(len(si)) - np.repeat(np.cumsum(n_inv) - n_inv, n_inv)
        t_inv = s_start[si] + (k * 30.4 * DAY).astype(np.int64)
        ok = t_inv < stop[si]
        o2 = dict(
            acct=s_acct[si][ok],
            t=t_inv[ok],
            rev=s_mrr[si][ok],
            product=s_product[si][ok],
            qty=np.ones(int(ok.sum())),
        )
        months_active = (span_stop - span_start) / (30.4 * DAY)
        n_rep = rng.poisson(np.maximum(months_active, 0) * 0.35)
        ri = np.repeat(np.arange(len(acct)), n_rep)
        t_rep = span_start[ri] + (rng.random(len(ri)) * (span_stop - span_start)[ri]).astype(
            np.int64
        )
        seg = self.account_segment[acct[ri]]
        o3 = dict(
            acct=acct[ri],
            t=t_rep,
            rev=_money(rng.lognormal(np.log(SEGMENT_AMOUNT[seg] * 0.05), 0.7)),
            product=rng.choice(len(PRODUCTS), len(ri), p=PRODUCT_P),
            qty=rng.integers(1, 12, len(ri)).astype(float),
        )
        parts = [o1, o2, o3]
        lines = {key: np.concatenate([o[key] for o in parts]) for key in o1}
        n = len(lines["acct"])
        # orders: consecutive purchases of one account share an order id now and then
        order_no = np.arange(n)
        multi = rng.random(n) < 0.25
        lines_t = lines["t"].copy()
        ret = rng.random(n) < 0.02
        ri = np.flatnonzero(ret & (lines["t"] + 20 * DAY < p.end))
        rt = lines["t"][ri] + (rng.uniform(3, 20, len(ri)) * DAY).astype(np.int64)
        lines = {key: np.concatenate([v, v[ri]]) for key, v in lines.items()}
        lines["rev"] = np.concatenate([lines["rev"][:n], -lines["rev"][ri]])
        lines["qty"] = np.concatenate([lines["qty"][:n], -lines["qty"][ri]])
        lines["t"] = np.concatenate([lines_t, rt])
        order_no = np.concatenate([order_no, n + np.arange(len(ri))])
        extra = np.flatnonzero(multi)  # a second line in the same order
        for key in lines:
            lines[key] = np.concatenate([lines[key], lines[key][extra]])
        lines["product"][-len(extra) :] = rng.choice(len(PRODUCTS), len(extra), p=PRODUCT_P)
        lines["rev"][-len(extra) :] = _money(lines["rev"][-len(extra) :] * 0.3)
        order_no = np.concatenate([order_no, order_no[extra]])
        order = np.lexsort((order_no, lines["t"]))
        lines = {key: v[order] for key, v in lines.items()}
        order_no = order_no[order]
        cost = _money(lines["rev"] * rng.uniform(0.35, 0.6, len(order_no)))
        rep = self.rep_at(self.account_slot[lines["acct"]], lines["t"])
        moy = pd.DatetimeIndex(lines["t"].astype("datetime64[s]")).month.to_numpy()
        campaign_names = np.array(
            [
                "",
                "",
                "Spring Launch",
                "",
                "",
                "Summer Promo",
                "",
                "",
                "Back to Business",
                "",
                "Black Friday",
                "Year-End Deals",
            ]
        )
        with_campaign = (rng.random(len(order_no)) < 0.4) & (campaign_names[moy - 1] != "")
        campaign = np.where(with_campaign, campaign_names[moy - 1], None)
        prefix = np.where(lines["rev"] < 0, "RET", "ORD")
        self.tables["orders"] = pa.table(
            {
                "order_id": pc.binary_join_element_wise(
                    pa.array(prefix), _ids("-", order_no, 8), ""
                ),
                "ordered_at": _ts(lines["t"]),
                "account_id": _ids("A", lines["acct"], 7),
                "revenue": pa.array(lines["rev"]),
                "quantity": pa.array(lines["qty"]),
                "cost": pa.array(cost),
                "product": pa.array(PRODUCTS[lines["product"]]),
                "rep_id": _ids("R", rep, 5),
                "campaign": pa.array(campaign, pa.string()),
            }
        )
        self.spans = (acct, span_start, span_stop)

    def activities(self) -> None:
        rng, p, d, lead = self.rng, self.period, self.deal, self.lead
        # first responses to leads
        lc = np.flatnonzero(lead["contacted"])
        a1 = dict(
            t=lead["response"][lc],
            rep=lead["rep"][lc],
            lead=lc,
            opp=np.full(len(lc), -1),
            acct=lc,
            type=rng.choice(2, len(lc), p=[0.55, 0.45]),
        )
        # work on deals while they are open
        stop = np.minimum(d["closed"], p.end)
        days = (stop - d["created"]) / DAY
        k = np.clip(rng.poisson(np.maximum(days, 1) / 5.0 + 1), 1, 40)
        di = np.repeat(np.arange(self.n_deals), k)
        t = d["created"][di] + (rng.random(len(di)) * (stop - d["created"])[di]).astype(np.int64)
        a2 = dict(
            t=t,
            rep=self.rep_at(d["slot"][di], t),
            lead=d["lead"][di],
            opp=di,
            acct=d["account"][di],
            type=rng.choice(3, len(di), p=[0.45, 0.4, 0.15]),
        )
        # account management with active customers
        acct, start, end = self.spans
        k = rng.poisson(np.maximum((end - start) / (30.4 * DAY), 0) * 0.8)
        ci = np.repeat(np.arange(len(acct)), k)
        t = start[ci] + (rng.random(len(ci)) * (end - start)[ci]).astype(np.int64)
        a3 = dict(
            t=t,
            rep=self.rep_at(self.account_slot[acct[ci]], t),
            lead=np.full(len(ci), -1),
            opp=np.full(len(ci), -1),
            acct=acct[ci],
            type=rng.choice(3, len(ci), p=[0.3, 0.5, 0.2]),
        )
        a = {key: np.concatenate([x[key] for x in (a1, a2, a3)]) for key in a1}
        order = np.argsort(a["t"], kind="stable")
        a = {key: v[order] for key, v in a.items()}
        n = len(order)
        types = np.array(["call", "email", "meeting"])
        outcomes = np.array(["successful", "no_answer", "voicemail"])
        is_call = a["type"] == 0
        outcome = np.where(is_call, outcomes[rng.choice(3, n, p=[0.3, 0.45, 0.25])], None)
        self.tables["activities"] = pa.table(
            {
                "activity_id": _ids("ACT", np.arange(n), 8),
                "occurred_at": _ts(a["t"]),
                "type": pa.array(types[a["type"]]),
                "rep_id": _ids("R", a["rep"], 5),
                "outcome": pa.array(outcome, pa.string()),
                "lead_id": _opt_ids("L", a["lead"], 7),
                "opportunity_id": _opt_ids("O", a["opp"], 7),
                "account_id": _ids("A", a["acct"], 7),
            }
        )

    def nps(self) -> None:
        rng = self.rng
        acct, start, end = self.spans
        k = rng.poisson(np.maximum((end - start) / (30.4 * DAY), 0) / 5.0)
        ci = np.repeat(np.arange(len(acct)), k)
        t = start[ci] + (rng.random(len(ci)) * (end - start)[ci]).astype(np.int64)
        base = np.array([x[4] for x in TEAMS])[self.account_team[acct[ci]]]
        score = np.clip(np.round(rng.normal(base, 2.0)), 0, 10).astype(np.int64)
        order = np.argsort(t, kind="stable")
        self.tables["nps_responses"] = pa.table(
            {
                "response_id": _ids("N", np.arange(len(ci)), 7),
                "responded_at": _ts(t[order]),
                "score": pa.array(score[order]),
                "account_id": _ids("A", acct[ci][order], 7),
            }
        )

    def monthly(self) -> None:
        """costs, targets and financials, per team and month."""
        rng, p, d = self.rng, self.period, self.deal
        n_teams, n_m = len(TEAMS), p.n
        months = pd.DatetimeIndex(p.months[:-1].astype("datetime64[s]")).strftime("%Y-%m")
        months = np.asarray(months)
        lead_m = p.month_of(self.lead["created"])
        leads_tm = np.zeros((n_teams, n_m))
        np.add.at(leads_tm, (self.lead["team"], lead_m), 1)
        won = d["won"]
        won_m = p.month_of(d["closed"][won])
        won_team = self.account_team[d["account"][won]]
        book_tm = np.zeros((n_teams, n_m))
        costs_col = self.tables["opportunities"]["associated_cost"].to_numpy()[won]
        np.add.at(book_tm, (won_team, won_m), d["amount"][won] - costs_col)
        orders = self.tables["orders"]
        o_t = orders["ordered_at"].cast(pa.int64()).to_numpy()
        o_acct = pc.cast(pc.utf8_slice_codeunits(orders["account_id"], 1), pa.int64()).to_numpy()
        rev_tm = np.zeros((n_teams, n_m))
        np.add.at(
            rev_tm, (self.account_team[o_acct], p.month_of(o_t)), orders["revenue"].to_numpy()
        )
        first = self.customer["first_won_by_acct"]
        has = first >= 0
        new_tm = np.zeros((n_teams, n_m))
        fm = p.month_of(first[has])
        ok = (fm >= 0) & (fm < n_m)
        np.add.at(new_tm, (self.account_team[has][ok], fm[ok]), 1)
        active_reps = np.zeros((n_teams, n_m))
        for m in range(n_m):
            s, e = p.months[m], p.months[m + 1]
            act = (self.rep_hired < e) & ((self.rep_left < 0) | (self.rep_left >= s))
            np.add.at(active_reps[:, m], self.rep_team[act], 1)
        team_names = np.array([t[0] for t in TEAMS])
        tt, mm = np.meshgrid(np.arange(n_teams), np.arange(n_m), indexing="ij")
        tt, mm = tt.ravel(), mm.ravel()
        # costs: marketing per team, sales per team, and shared brand marketing
        mkt = _money(leads_tm.ravel() * rng.uniform(35, 55, tt.size))
        sales = _money(active_reps.ravel() * rng.uniform(7_500, 9_500, tt.size))
        shared = _money(self.scale["leads"] * 12 * self.season(np.arange(n_m)))
        self.tables["costs"] = pa.table(
            {
                "month": pa.array(np.concatenate([months[mm], months[mm], months])),
                "category": pa.array(
                    ["marketing"] * tt.size + ["sales"] * tt.size + ["marketing"] * n_m
                ),
                "amount": pa.array(np.concatenate([mkt, sales, shared])),
                "channel": pa.array(
                    np.concatenate(
                        [
                            np.array(["paid_search", "content", "events"])[
                                rng.integers(0, 3, tt.size)
                            ],
                            np.full(tt.size, "field"),
                            np.full(n_m, "brand"),
                        ]
                    )
                ),
                "team": pa.array(
                    list(team_names[tt]) + list(team_names[tt]) + [None] * n_m, pa.string()
                ),
            }
        )

        # targets: the team's level grown 5%, with a month-by-month stretch. The level is
        # the trailing 12-month mean, never below half the team's median month: a team
        # closes a handful of deals a month, so a short average of a quiet spell (or of the
        # first months, before the funnel fills) gave $100 targets and 70,000 % attainment
        def plan(actual: np.ndarray, step: float) -> np.ndarray:
            months = pd.DataFrame(actual.T)  # month x team
            trail = months.rolling(12, min_periods=3).mean().shift(1).bfill().to_numpy().T
            floor = 0.5 * np.median(actual, axis=1, keepdims=True)
            stretch = rng.uniform(0.95, 1.15, actual.shape)
            return np.round(np.maximum(trail, floor) * 1.05 * stretch / step) * step

        rows, ahead = [], []
        for kpi, actual, step in (
            ("monthly_sales_bookings", book_tm, 100.0),
            ("sales_revenue", rev_tm, 100.0),
            ("new_customers", new_tm, 1.0),
        ):
            target = np.maximum(plan(actual, step), step)
            rows.append(
                pd.DataFrame(
                    {
                        "month": months[mm],
                        "kpi": kpi,
                        "target": target.ravel(),
                        "team": team_names[tt],
                        "rep_id": None,
                    }
                )
            )
            company = target.sum(axis=0)
            rows.append(
                pd.DataFrame(
                    {"month": months, "kpi": kpi, "target": company, "team": None, "rep_id": None}
                )
            )
            # the plan of the months left in the last month's quarter (at most 2, whatever
            # fiscal_year_start), so that quarter's target adds up: the team's level of
            # the last 12 months grown 5 %, no stretch (no draw: the data stays the same)
            level = np.round(actual[:, -12:].mean(axis=1) * 1.05 / step) * step
            level = np.maximum(level, step)
            for k in (1, 2):
                month = str(pd.Period(months[-1], "M") + k)
                ahead.append(
                    pd.DataFrame(
                        {
                            "month": month,
                            "kpi": kpi,
                            "target": [*level, level.sum()],
                            "team": [*team_names, None],
                            "rep_id": None,
                        }
                    )
                )
        # rep targets for bookings: the team target split over the slots
        book_target = rows[0]["target"].to_numpy().reshape(n_teams, n_m)
        mid = (p.months[:-1] + p.months[1:]) // 2
        for team_index, (s0, k) in enumerate(self.team_slots):
            slots = np.repeat(np.arange(s0, s0 + k), n_m)
            mi = np.tile(np.arange(n_m), k)
            rep = self.rep_at(slots, mid[mi])
            rows.append(
                pd.DataFrame(
                    {
                        "month": months[mi],
                        "kpi": "monthly_sales_bookings",
                        "target": np.round(book_target[team_index, mi] / k / 100) * 100,
                        "team": team_names[team_index],
                        "rep_id": np.asarray(_ids("R", rep, 5)),
                    }
                )
            )
        targets = pd.concat([*rows, *ahead], ignore_index=True)
        self.tables["targets"] = pa.Table.from_pandas(targets, preserve_index=False)
        revenue = rev_tm.sum(axis=0)
        margin = rng.normal(0.11, 0.03, n_m)
        self.tables["financials"] = pa.table(
            {
                "month": pa.array(months),
                "net_income": pa.array(_money(revenue * margin)),
                "nopat": pa.array(_money(revenue * margin * 1.08)),
                "invested_capital": pa.array(_money(revenue.mean() * 8 * 1.01 ** np.arange(n_m))),
                "cost_of_capital": pa.array(np.full(n_m, 0.09)),
                "average_inventory_cost": pa.array(_money(revenue * rng.uniform(0.25, 0.35, n_m))),
                "employees": pa.array(active_reps.sum(axis=0) * 3.0 + 40),
            }
        )

    def run(self) -> dict[str, pa.Table]:
        self.reps()
        self.leads()
        self.opportunities()
        self.subscriptions_and_orders()
        self.activities()
        self.nps()
        self.monthly()
        self.stage_history(self.seed)
        return {name: self.tables[name] for name in TABLES}


# ------------------------------------------------------------------------- messy data

MESSY_CHECKS = [
    # (table, column, check) that `validate` must report for a --messy dataset
    ("opportunities", "opportunity_id", "duplicate_id"),
    ("opportunities", "closed_at", "closed_without_date"),
    ("opportunities", "closed_at", "closed_before_created"),
    ("opportunities", "stage", "bad_stage"),
    ("opportunities", "amount", "negative"),
    ("opportunities", "rep_id", "orphan_key"),
    ("nps_responses", "score", "score_out_of_range"),
    ("leads", "created_at", "bad_date"),
    ("orders", "revenue", "bad_number"),
    ("activities", "occurred_at", "future"),
]


def _make_messy(tables: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    frames = {name: t.to_pandas() for name, t in tables.items()}
    o = frames["opportunities"]
    won = o.index[o["stage"] == "closed_won"]
    o.loc[won[0], "closed_at"] = pd.NaT
    o.loc[won[1], "closed_at"] = o.loc[won[1], "created_at"] - pd.Timedelta(days=3)
    o.loc[won[2], "stage"] = "Won"
    o.loc[won[3], "amount"] = -o.loc[won[3], "amount"]
    o.loc[won[4], "rep_id"] = "R-GHOST"
    frames["opportunities"] = pd.concat([o, o.loc[[won[5]]]], ignore_index=True)
    frames["nps_responses"].loc[0, "score"] = 11
    leads = frames["leads"]
    leads["created_at"] = leads["created_at"].dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
    leads.loc[3, "created_at"] = "31/02/2024"
    orders = frames["orders"]
    orders["revenue"] = orders["revenue"].map(repr).astype(object)
    orders.loc[7, "revenue"] = "12,50"
    acts = frames["activities"]
    acts.loc[acts.index[-1], "occurred_at"] = pd.Timestamp.now().floor("s") + pd.Timedelta(days=400)
    return frames


# ------------------------------------------------------------------------- writing


# the monthly tables' keys: the parts' rows with the same key are added up
MONTHLY_KEYS = {
    "costs": ["month", "category", "channel", "team"],
    "targets": ["month", "kpi", "team", "rep_id"],
    "financials": ["month"],
}


def _part_ids(table: pa.Table, part: int) -> pa.Table:
    """``table`` with every id column (``*_id``) prefixed ``X<part>-``: parts never
    share a rep, an account or a deal."""
    for i, name in enumerate(table.column_names):
        if name.endswith("_id"):
            col = table.column(i).cast(pa.string())
            table = table.set_column(i, name, pc.binary_join_element_wise(f"X{part}-", col, ""))
    return table


def _write_chunked(out: Path, seed: int, scale: str, end_month: str, months: int, fmt: str):
    """Write the parts of a chunked scale (``CHUNKED``) one after the other, appending each
    part's rows to the files; returns the row counts. Only one part is in memory."""
    base, parts = CHUNKED[scale]
    writers: dict[str, pq.ParquetWriter] = {}
    monthly: dict[str, list[pd.DataFrame]] = {name: [] for name in MONTHLY_KEYS}
    rows: dict[str, int] = dict.fromkeys(TABLES, 0)
    try:
        for part in range(1, parts + 1):
            tables = _Generator(seed * 1_000 + part, base, end_month, months).run()
            for name in TABLES:
                table = _part_ids(tables.pop(name), part)
                if name in MONTHLY_KEYS:
                    monthly[name].append(table.to_pandas())
                    continue
                rows[name] += table.num_rows
                if fmt == "parquet":
                    if name not in writers:
                        writers[name] = pq.ParquetWriter(
                            out / f"{name}.parquet", table.schema, compression="zstd"
                        )
                    writers[name].write_table(table.cast(writers[name].schema))
                else:
                    table.to_pandas().to_csv(
                        out / f"{name}.csv",
                        index=False,
                        date_format="%Y-%m-%d %H:%M:%S",
                        lineterminator="\n",
                        mode="w" if part == 1 else "a",
                        header=part == 1,
                    )
                del table
            del tables
    finally:
        for writer in writers.values():
            writer.close()
    summed = {}
    for name, keys in MONTHLY_KEYS.items():
        df = pd.concat(monthly[name], ignore_index=True)
        # team targets add up; a rep's is its own (the parts' rep ids differ)
        values = [c for c in df.columns if c not in keys]
        mean = [c for c in values if c == "cost_of_capital"]  # a rate: the parts' average
        agg = {c: ("mean" if c in mean else "sum") for c in values}
        summed[name] = df.groupby(keys, dropna=False, sort=False, as_index=False).agg(agg)
        rows[name] = len(summed[name])
    _write(summed, out, fmt)
    return rows


def _write(frames: dict, out: Path, fmt: str) -> None:
    for name, table in frames.items():
        if fmt == "parquet":
            t = (
                table
                if isinstance(table, pa.Table)
                else pa.Table.from_pandas(table, preserve_index=False)
            )
            pq.write_table(t, out / f"{name}.parquet", compression="zstd")
        else:
            df = table.to_pandas() if isinstance(table, pa.Table) else table
            df.to_csv(
                out / f"{name}.csv",
                index=False,
                date_format="%Y-%m-%d %H:%M:%S",
                lineterminator="\n",
            )


MANIFEST = "_sample.json"  # what marks a folder as sample-data's own


def check_out(out: str | Path, force: bool = False) -> None:
    """Raise :class:`KitError` unless sample data may be written to ``out``: a new folder,
    an empty one, or one sample-data wrote (``_sample.json`` and the contract's tables,
    nothing else), which is replaced; any other folder only with ``force``. The current
    folder, the home folder, the root and any folder holding one of them are refused,
    ``force`` or not: replacing the folder deletes everything in it.

    >>> check_out(Path.cwd(), force=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kpi_helpers.core.errors.KitError: --out ... is the current folder; ...
    """
    out = Path(out).expanduser()
    where, here, home = out.resolve(), Path.cwd().resolve(), Path.home().resolve()
    refused = [
        (Path(where.anchor), "the root folder"),
        (here, "the current folder"),
        (home, "your home folder"),
        *((p, "a folder holding the current folder") for p in here.parents),
        *((p, "a folder holding your home folder") for p in home.parents),
    ]
    for path, what in refused:
        if where == path:
            raise KitError(
                f"--out {out} is {what}; sample-data replaces the folder it writes, so it "
                "never writes there, not even with --force. Pick a new or empty folder, "
                "e.g. --out data/sample."
            )
    if not (out.exists() or out.is_symlink()):
        return
    if not out.is_dir():
        raise KitError(f"--out {out} is a file, not a folder: pick a new or empty folder.")
    if force:
        return
    ours = {MANIFEST} | {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")}
    names = sorted(p.name for p in out.iterdir())
    foreign = names if MANIFEST not in names else [n for n in names if n not in ours]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if foreign[3:] else "")
        raise KitError(
            f"--out {out} already holds files sample-data did not write ({shown}); "
            "writing there would delete them. Pick a new or empty folder, or pass --force "
            "to replace the folder and everything in it."
        )


def generate(
    out: str | Path,
    seed: int = 7,
    scale: str = "small",
    months: int = 36,
    messy: bool = False,
    end_month: str | None = None,
    fmt: str | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Write the sample dataset to ``out`` and return the row count of each table.

    An existing ``out`` is replaced only when :func:`check_out` allows it (``force``
    for a folder sample-data did not write). The folder is written beside ``out`` and
    swapped in when complete (``core.replace_folder``), so an interrupted run never
    leaves half a dataset and never loses the old one. Example::

        generate("data/sample", seed=7)  # {"leads": ..., "opportunities": ..., ...}
    """
    if scale not in SCALES and scale not in CHUNKED:
        raise ValueError(f"scale must be one of {', '.join([*SCALES, *CHUNKED])}")
    if messy and scale in CHUNKED:
        raise KitError(f"--messy is for the scales {', '.join(SCALES)}, not {scale}.")
    out = Path(out).expanduser()
    check_out(out, force)
    end_month = end_month or last_complete_month()
    fmt = fmt or ("csv" if scale == "small" else "parquet")
    frames: dict = {}
    if scale not in CHUNKED:
        tables = _Generator(seed, scale, end_month, months).run()
        frames = _make_messy(tables) if messy else tables
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        new = tmp / out.name
        new.mkdir()  # not mkdtemp's 0700: the folder the user gets has the usual mode
        if scale in CHUNKED:
            rows = _write_chunked(new, seed, scale, end_month, months, fmt)
        else:
            _write(frames, new, fmt)
            rows = {k: len(v) for k, v in frames.items()}
        meta = {
            "seed": seed,
            "scale": scale,
            "months": months,
            "end_month": end_month,
            "messy": messy,
            "format": fmt,
            "rows": rows,
        }
        if messy:
            meta["problems"] = [dict(table=t, column=c, check=k) for t, c, k in MESSY_CHECKS]
        (new / MANIFEST).write_text(json.dumps(meta, indent=2) + "\n")
        check_out(out, force)  # again: files may have landed there while it generated
        replace_folder(new, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return meta["rows"]
