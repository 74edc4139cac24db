"""Two small CRM exports written by hand, in the shape of a real one (issue 21).

``salesforce_export(folder)`` writes a Salesforce Data Loader folder (``Opportunity.csv``,
``Account.csv``, ``User.csv``: API field names, 18-character IDs) and ``hubspot_export
(folder)`` a HubSpot UI export (``hubspot-crm-exports-all-deals-*.csv``,
``...-companies-*.csv``, ``owners.csv``: property labels, dates month first). Both hold
the same 21 deals, sold by the same four reps to the same five accounts, so one set of
hand-worked values serves both; they differ where the two CRMs differ (below).
``kpi-kit init --source <folder>`` loads either. The month to look at is m = 2017-12
(S = 2018-01-01, the end of m), the last month of the data.

What each fixture holds, by item of issue 21:

1. **No $0 forecasts.** HubSpot: no open deal has a ``Close Date`` (so no
   ``expected_close_at``): bookings_forecast for m is *not available*, "6 open deals lack
   an expected close date"; validation warns ``open_without_expected_close`` on 6 rows.
   Salesforce: every open deal has a ``CloseDate``; two of them (``P04``, ``P05``) are
   expected to close in m+1 = 2018-01, so the forecast has inputs: their CRM-weighted
   value is 2000 x 0.10 + 1000 x 0.20 = 400.
2. **The right team for every customer.** No account has an owner except Initech
   (Salesforce only). The accounts' teams by the spec's rule (owner in reps, else the rep
   of the latest won deal, else of the latest deal) are ``ACCOUNT_TEAMS`` below; today
   every ownerless account lands in ``unassigned``.
3. **A team that sells nothing.** Salesforce: the two managers (Maria Chen, Omar Haddad)
   are users without a department or a manager, so their team is ``unassigned``; they
   own no deal. Once the accounts follow their deals, ``unassigned`` holds no deal, order,
   lead or customer (Hooli is a prospect without deals, not a customer): no pages for it.
   The team ``Sales Development`` (Olga Sanz, an SDR: her department) is empty even
   today; its summary page crashes today (``TypeError: Can only string multiply by an
   integer``). HubSpot: reps are the deal owners, so ``unassigned`` empties the same way.
4. **Sales per rep over selling reps.** Salesforce has 7 users; 3 of them (Ana, Ben, Cy)
   own a deal created or closed in 2017-10..2017-12; Dee's only deal closed in 2017-05;
   the managers and the SDR own none.
5. **Months before the first closed deal.** Deals are created from 2016-10 on; the first
   closes (won W01, W02, lost L01) fall in 2017-03.
6. **A stale pipeline.** Three old open deals, four open deals past their expected close
   (Salesforce), two open deals without an account.
7. **Data-quality findings.** No orders, leads, activities, subscriptions, costs,
   targets, NPS or financials: eight missing tables, which is normal for a CRM export.
   The real problems are the warnings listed under ``SALESFORCE_WARNINGS`` and
   ``HUBSPOT_WARNINGS``.
8. **Names, not IDs.** Salesforce IDs are 18 characters; users have names (``REP_NAMES``).
   Nothing has a quote date (``quoted_at``), nothing has a target.
9. **Data through.** The last deal is *created* on 2017-12-27, but W11 *closes* on
   2017-12-31: the data runs through 2017-12-31 (today the header says 2017-12-27).
10. **One deal type for everything.** Every deal is ``New Business`` (``new``), yet Acme
    has 5 won deals, Globex 4 and Initech 2.

The deals (amounts in dollars; created / closed or expected close, both dates):

=====  ========  ====  ==========  ==========  ======  =====================
deal   account   rep   created     close       amount  state
=====  ========  ====  ==========  ==========  ======  =====================
W01    Acme      Ana   2016-10-03  2017-03-02    1000  won, cycle 150 days
W02    Globex    Ben   2016-11-10  2017-03-20    2000  won, 130
W03    Acme      Cy    2017-02-01  2017-04-12    1500  won, 70
W04    Initech   Ana   2017-03-01  2017-05-10    3000  won, 70
W05    Globex    Dee   2017-04-03  2017-05-03     800  won, 30
W06    Acme      Ben   2017-06-01  2017-07-01    1200  won, 30
W07    Globex    Cy    2017-08-01  2017-09-10    2500  won, 40
W08    Initech   Ana   2017-09-04  2017-10-14     900  won, 40
W09    Acme      Ana   2017-10-02  2017-11-15    1800  won, 44
W10    Globex    Ben   2017-11-01  2017-12-12    2000  won, 41
W11    Acme      Cy    2017-10-16  2017-12-31    4000  won, 76
L01    Umbrella  Ana   2016-12-05  2017-03-15     700  lost
L02    Globex    Cy    2017-05-02  2017-06-20     600  lost
L03    Umbrella  Cy    2017-09-15  2017-11-20    1100  lost
L04    Acme      Ana   2017-11-06  2017-12-20     900  lost
P01    Acme      Ana   2016-10-10  2017-01-31    5000  open, Negotiation/Review
P02    (none)    Ben   2016-11-15  2017-02-28    3000  open, Proposal/Price Quote
P03    Globex    Ana   2017-06-15  2017-11-30    1500  open, Proposal/Price Quote
P04    Umbrella  Ben   2017-11-20  2018-01-31    2000  open, Prospecting
P05    (none)    Cy    2017-12-27  2018-01-15    1000  open, Qualification
P06    Initech   Cy    2017-10-20  2017-12-15    2500  open, Negotiation/Review
=====  ========  ====  ==========  ==========  ======  =====================

HubSpot has the same deals without the close dates of P01..P06. Created dates are
midnight UTC, so every cycle is whole days. Worked out by hand for m = 2017-12:

- Bookings per month (won amount): 2017-03 3000 (W01 + W02), 04 1500, 05 3800 (W04 +
  W05), 06 0 (a real zero: L02 was lost), 07 1200, 08 0, 09 2500, 10 900, 11 1800, 12
  6000 (W10 + W11); 20700 in all. 2016-10..2017-02 are *not available* (before the first
  closed deal, 2017-03), and so is every comparison with them: bookings YoY of 2017-12
  (against 2016-12), and the first five months of a bookings forecast's history.
  Pipeline states start in 2016-10 (the first created deal).
- Win rate: 2017-03 2 / 3 = 66.7 % (L01 lost), 2017-06 0 / 1 = 0 %, 2017-11 1 / 2 = 50 %,
  2017-12 2 / 3 = 66.7 % (L04 lost). Cycle of m: mean(41, 76) = 58.5 days.
- New customers (first won deal): Acme and Globex in 2017-03, Initech in 2017-05.
  Active customers at the end of m: Acme, Globex, Initech (Umbrella never won).
- Account teams: ``ACCOUNT_TEAMS``. Acme's latest deal is L04 (Ana), but its latest
  *won* deal is W11 (Cy); Initech has an owner only in Salesforce (Cy), its deals are
  Ana's; Umbrella never won, its latest deal is P04 (Ben); Hooli has no deal.
- Sales per rep in m: bookings 6000 / 3 selling reps (Ana, Ben, Cy) = 2000. Today it is
  6000 / 7 users = 857 in Salesforce (6000 / 4 deal owners = 1500 in HubSpot). Per team
  (Salesforce names; HubSpot East = Maria Chen's, West = Omar Haddad's): Maria Chen 2000
  (W10) / 2 (Ana, Ben) = 1000; Omar Haddad 4000 (W11) / 1 (Cy; Dee sold nothing since
  2017-05) = 4000, today 4000 / 2 = 2000. The company figure today (857) is below
  both teams.
- Pipeline at the end of m: P01..P06 = 5000 + 3000 + 1500 + 2000 + 1000 + 2500 = 15000.
- Stale pipeline: the median cycle of the 11 deals won in 2017-01..2017-12 (30, 30, 40,
  40, 41, 44, 70, 70, 76, 130, 150) is 44 days, so a deal is stale past 88 days (more
  than 30). Ages at S: P01 448, P02 412, P03 200, P04 42, P05 5, P06 73 days. Stale:
  P01 + P02 + P03 = 9500 / 15000 = 63.33 % (both fixtures).
- Overdue pipeline (Salesforce): expected close before the end of m: P01 (2017-01-31),
  P02 (2017-02-28), P03 (2017-11-30), P06 (2017-12-15) = 12000 / 15000 = 80 %. HubSpot:
  *not available* (no open deal has an expected close date). Both shares are above
  25 %: a headline flag in Salesforce, the stale one in HubSpot.
- Data through: 2017-12-31 (W11's close) in both; the accounts run to 2017-12-05
  (Hooli created), within a month of it.
"""

from __future__ import annotations

from pathlib import Path

# ------------------------------------------------------------------ Salesforce IDs (18)

ANA, BEN, CY, DEE = (
    "0055g00000AnaLiAAA",
    "0055g00000BenOdAAA",
    "0055g00000CyParAAA",
    "0055g00000DeeRaAAA",
)
MARIA, OMAR = "0055g00000MarChAAA", "0055g00000OmaHaAAA"  # the managers
OLGA = "0055g00000OlgSaAAA"  # an SDR: owns no deal
ACME, GLOBEX, INITECH, UMBRELLA, HOOLI = (
    "0015g00000AcmeCAAA",
    "0015g00000GlobxAAA",
    "0015g00000InitcAAA",
    "0015g00000UmbrlAAA",
    "0015g00000HooliAAA",
)
REP_NAMES = {
    ANA: "Ana Lima",
    BEN: "Ben Ode",
    CY: "Cy Park",
    DEE: "Dee Ray",
    MARIA: "Maria Chen",
    OMAR: "Omar Haddad",
    OLGA: "Olga Sanz",
}


def deal_id(key: str) -> str:
    """The Salesforce ID of deal ``key`` of the table above: ``deal_id("W01")`` is
    ``0065g00000Won01AAA`` (W won, L lost, P open)."""
    kind = {"W": "Won", "L": "Lst", "P": "Opn"}[key[0]]
    return f"0065g00000{kind}{key[1:]}AAA"


# ------------------------------------------------------------------ Salesforce files

# Department is empty but for the SDR: a rep's team is the name of their manager, the
# managers, who have none, fall into "unassigned" (README: the Salesforce preset), and
# the SDR's team is her department.
USER_CSV = f"""\
Id,Name,Email,IsActive,Title,Department,ManagerId
{MARIA},Maria Chen,maria.chen@example.com,true,Sales Manager,,
{OMAR},Omar Haddad,omar.haddad@example.com,true,Sales Manager,,
{ANA},Ana Lima,ana.lima@example.com,true,Account Executive,,{MARIA}
{BEN},Ben Ode,ben.ode@example.com,true,Account Executive,,{MARIA}
{CY},Cy Park,cy.park@example.com,true,Account Executive,,{OMAR}
{DEE},Dee Ray,dee.ray@example.com,true,Account Executive,,{OMAR}
{OLGA},Olga Sanz,olga.sanz@example.com,true,Sales Development Rep,Sales Development,
"""

# Only Initech has an owner (Cy, although Ana sold it both deals).
ACCOUNT_CSV = f"""\
Id,Name,OwnerId,Industry,BillingCountry,Type,CreatedDate
{ACME},Acme Corp,,Manufacturing,United States,Customer,2016-09-20T00:00:00.000Z
{GLOBEX},Globex,,Energy,Germany,Customer,2016-10-25T00:00:00.000Z
{INITECH},Initech,{CY},Software,United States,Customer,2017-02-10T00:00:00.000Z
{UMBRELLA},Umbrella,,Pharma,United Kingdom,Prospect,2016-11-30T00:00:00.000Z
{HOOLI},Hooli,,Software,United States,Prospect,2017-12-05T00:00:00.000Z
"""

_OPPORTUNITY_HEADER = (
    "Id,AccountId,Name,StageName,Amount,Probability,CloseDate,Type,IsClosed,IsWon,"
    "OwnerId,CreatedDate"
)
# key, account, name, stage, amount, probability, close date, closed, won, owner, created
_DEALS = [
    ("W01", ACME, "Acme platform", "Closed Won", 1000, 100, "2017-03-02", 1, 1, ANA, "2016-10-03"),
    ("W02", GLOBEX, "Globex pilot", "Closed Won", 2000, 100, "2017-03-20", 1, 1, BEN, "2016-11-10"),
    ("W03", ACME, "Acme seats", "Closed Won", 1500, 100, "2017-04-12", 1, 1, CY, "2017-02-01"),
    ("W04", INITECH, "Initech", "Closed Won", 3000, 100, "2017-05-10", 1, 1, ANA, "2017-03-01"),
    ("W05", GLOBEX, "Globex EU", "Closed Won", 800, 100, "2017-05-03", 1, 1, DEE, "2017-04-03"),
    ("W06", ACME, "Acme support", "Closed Won", 1200, 100, "2017-07-01", 1, 1, BEN, "2017-06-01"),
    ("W07", GLOBEX, "Globex roll", "Closed Won", 2500, 100, "2017-09-10", 1, 1, CY, "2017-08-01"),
    ("W08", INITECH, "Initech add", "Closed Won", 900, 100, "2017-10-14", 1, 1, ANA, "2017-09-04"),
    ("W09", ACME, "Acme training", "Closed Won", 1800, 100, "2017-11-15", 1, 1, ANA, "2017-10-02"),
    ("W10", GLOBEX, "Globex 2018", "Closed Won", 2000, 100, "2017-12-12", 1, 1, BEN, "2017-11-01"),
    ("W11", ACME, "Acme 2018", "Closed Won", 4000, 100, "2017-12-31", 1, 1, CY, "2017-10-16"),
    ("L01", UMBRELLA, "Umbrella", "Closed Lost", 700, 0, "2017-03-15", 1, 0, ANA, "2016-12-05"),
    ("L02", GLOBEX, "Globex APAC", "Closed Lost", 600, 0, "2017-06-20", 1, 0, CY, "2017-05-02"),
    ("L03", UMBRELLA, "Umbrella 2", "Closed Lost", 1100, 0, "2017-11-20", 1, 0, CY, "2017-09-15"),
    ("L04", ACME, "Acme labs", "Closed Lost", 900, 0, "2017-12-20", 1, 0, ANA, "2017-11-06"),
    ("P01", ACME, "Acme HQ", "Negotiation/Review", 5000, 90, "2017-01-31", 0, 0, ANA, "2016-10-10"),
    ("P02", "", "Big one", "Proposal/Price Quote", 3000, 75, "2017-02-28", 0, 0, BEN, "2016-11-15"),
    ("P03", GLOBEX, "Globex US", "Proposal/Price Quote", 1500, 75, "2017-11-30", 0, 0, ANA,
     "2017-06-15"),
    ("P04", UMBRELLA, "Umbrella 3", "Prospecting", 2000, 10, "2018-01-31", 0, 0, BEN, "2017-11-20"),
    ("P05", "", "Inbound", "Qualification", 1000, 20, "2018-01-15", 0, 0, CY, "2017-12-27"),
    ("P06", INITECH, "Initech 3", "Negotiation/Review", 2500, 90, "2017-12-15", 0, 0, CY,
     "2017-10-20"),
]  # fmt: skip


def _opportunity_csv() -> str:
    rows = [_OPPORTUNITY_HEADER]
    for key, acct, name, stage, amount, prob, close, closed, won, owner, created in _DEALS:
        flags = ",".join("true" if f else "false" for f in (closed, won))
        rows.append(
            f"{deal_id(key)},{acct},{name},{stage},{amount},{prob},{close},New Business,"
            f"{flags},{owner},{created}T00:00:00.000Z"
        )
    return "\n".join(rows) + "\n"


# OpportunityHistory (Data Loader API names), issue 19: the path of four deals. W10 went
# Prospecting -> Proposal/Price Quote -> Closed Won; L04 Prospecting -> Closed Lost; P04 is
# in Prospecting, with a second row there when its amount went from 1500 to 2000 (no new
# stage); P06 skipped to Negotiation/Review. Times in UTC, as Salesforce writes them.
OPPORTUNITY_HISTORY_CSV = f"""\
Id,OpportunityId,StageName,Amount,CloseDate,ForecastCategory,Probability,CreatedDate
008A1,{deal_id("W10")},Prospecting,2000,2017-12-20,Pipeline,10,2017-11-01T09:00:00.000Z
008A2,{deal_id("W10")},Proposal/Price Quote,2000,2017-12-20,BestCase,75,2017-11-20T10:30:00.000Z
008A3,{deal_id("W10")},Closed Won,2000,2017-12-12,Closed,100,2017-12-12T00:00:00.000Z
008B1,{deal_id("L04")},Prospecting,900,2017-12-31,Pipeline,10,2017-11-06T00:00:00.000Z
008B2,{deal_id("L04")},Closed Lost,900,2017-12-20,Omitted,0,2017-12-20T00:00:00.000Z
008C1,{deal_id("P04")},Prospecting,1500,2017-12-31,Pipeline,10,2017-11-20T00:00:00.000Z
008C2,{deal_id("P04")},Prospecting,2000,2018-01-31,Pipeline,10,2017-12-05T15:00:00.000Z
008D1,{deal_id("P06")},Negotiation/Review,2500,2017-12-15,Forecast,90,2017-10-20T00:00:00.000Z
"""
# the stage history rows init maps from it: (deal, stage, entered_at, amount, category)
SALESFORCE_HISTORY = [
    (deal_id("L04"), "Prospecting", "2017-11-06 00:00:00", 900.0, "pipeline"),
    (deal_id("L04"), "closed_lost", "2017-12-20 00:00:00", 900.0, "omitted"),
    (deal_id("P04"), "Prospecting", "2017-11-20 00:00:00", 1500.0, "pipeline"),
    (deal_id("P04"), "Prospecting", "2017-12-05 15:00:00", 2000.0, "pipeline"),
    (deal_id("P06"), "Negotiation/Review", "2017-10-20 00:00:00", 2500.0, "commit"),
    (deal_id("W10"), "Prospecting", "2017-11-01 09:00:00", 2000.0, "pipeline"),
    (deal_id("W10"), "Proposal/Price Quote", "2017-11-20 10:30:00", 2000.0, "best_case"),
    (deal_id("W10"), "closed_won", "2017-12-12 00:00:00", 2000.0, "closed"),
]


def salesforce_export(folder: Path, history: bool = False) -> Path:
    """Write the Salesforce Data Loader export into ``folder`` (created); returns it. With
    ``history``, also ``OpportunityHistory.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "Opportunity.csv": _opportunity_csv(),
        "Account.csv": ACCOUNT_CSV,
        "User.csv": USER_CSV,
    }
    if history:
        files["OpportunityHistory.csv"] = OPPORTUNITY_HISTORY_CSV
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# ------------------------------------------------------------------ HubSpot files

# HubSpot names owners and companies; its deal IDs are numbers. The same deals, in the
# same order, with HubSpot's default pipeline stages for the open ones.
HS_COMPANY = {
    ACME: "Acme Corp",
    GLOBEX: "Globex",
    INITECH: "Initech",
    UMBRELLA: "Umbrella",
    HOOLI: "Hooli",
    "": "",
}
HS_STAGE = {
    "Closed Won": "Closed won",
    "Closed Lost": "Closed lost",
    "Negotiation/Review": "Contract sent",
    "Proposal/Price Quote": "Decision maker bought-in",
    "Prospecting": "Appointment scheduled",
    "Qualification": "Qualified to buy",
}


def hs_deal_id(key: str) -> str:
    """The HubSpot Record ID of deal ``key``: ``hs_deal_id("W01")`` is ``9100000001``."""
    return {"W": "91", "L": "92", "P": "93"}[key[0]] + "000000" + key[1:]


def _us_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{int(month)}/{int(day)}/{year} 00:00"


# "Date entered <stage>" (issue 19): HubSpot's default stages, by internal id and by the
# label its UI export writes (title case, with the pipeline), and when four deals entered
# them (UTC). W10 skipped Qualified to buy and Presentation scheduled; P06 skipped to
# Contract sent; every other deal's dates are empty: no entry. ``hubspot_export(folder,
# history="labels")`` writes the label columns (``Date entered "Appointment Scheduled
# (Sales Pipeline)"``, dates as the export writes them); ``history="ids"`` the internal
# names, ``hs_v2_date_entered_<id>`` and the older ``hs_date_entered_<id>`` both (ISO
# timestamps, as the API gives them), where the v2 value wins and the older one fills in:
# L04's ``hs_v2_date_entered_closedlost`` is empty, its older one holds the date.
HS_STAGE_IDS = {
    "appointmentscheduled": "Appointment Scheduled",
    "qualifiedtobuy": "Qualified To Buy",
    "presentationscheduled": "Presentation Scheduled",
    "decisionmakerboughtin": "Decision Maker Bought-In",
    "contractsent": "Contract Sent",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
}
HS_ENTERED = {
    "W10": {
        "appointmentscheduled": "2017-11-01 09:00",
        "decisionmakerboughtin": "2017-11-20 10:30",
        "closedwon": "2017-12-12 00:00",
    },
    "L04": {"appointmentscheduled": "2017-11-06 00:00", "closedlost": "2017-12-20 00:00"},
    "P04": {"appointmentscheduled": "2017-11-20 00:00"},
    "P06": {"contractsent": "2017-10-20 00:00"},
}
# the stage history rows init maps from either style: (deal, stage, entered_at), in the
# deals' order and by entered_at within a deal (the label columns come last stage first);
# stages as the deals name them (HubSpot's default labels), closed ones as the contract
HUBSPOT_HISTORY = [
    (hs_deal_id("W10"), "Appointment scheduled", "2017-11-01 09:00:00"),
    (hs_deal_id("W10"), "Decision maker bought-in", "2017-11-20 10:30:00"),
    (hs_deal_id("W10"), "closed_won", "2017-12-12 00:00:00"),
    (hs_deal_id("L04"), "Appointment scheduled", "2017-11-06 00:00:00"),
    (hs_deal_id("L04"), "closed_lost", "2017-12-20 00:00:00"),
    (hs_deal_id("P04"), "Appointment scheduled", "2017-11-20 00:00:00"),
    (hs_deal_id("P06"), "Contract sent", "2017-10-20 00:00:00"),
]


def _entered_columns(history: str | None) -> list[tuple[str, str, str]]:
    """(header, stage id, style) of the "date entered" columns of ``history``'s style."""
    if history == "labels":  # in the order the user picked them: last stage first
        return [
            (f'Date entered "{label} (Sales Pipeline)"', sid, "labels")
            for sid, label in reversed(HS_STAGE_IDS.items())
        ]
    if history == "ids":
        v2 = [(f"hs_v2_date_entered_{sid}", sid, "v2") for sid in HS_STAGE_IDS]
        return v2 + [(f"hs_date_entered_{sid}", sid, "old") for sid in HS_STAGE_IDS]
    return []


def _entered(key: str, sid: str, style: str) -> str:
    when = HS_ENTERED.get(key, {}).get(sid, "")
    if not when or (style == "v2" and (key, sid) == ("L04", "closedlost")):
        return ""  # no entry (for L04, the older property fills in)
    day, time = when.split()
    if style == "labels":  # as the UI export writes dates: 11/1/2017 09:00
        return _us_date(day).replace("00:00", time)
    return f"{day}T{time}:00.000Z"


def _deals_csv(history: str | None = None) -> str:
    entered = _entered_columns(history)
    rows = [
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Pipeline,"
        "Associated Company,Deal Type" + "".join(f",{_csv_cell(h)}" for h, _, _ in entered)
    ]
    for key, acct, name, stage, amount, _, close, closed, _, owner, created in _DEALS:
        # item 1: no expected close dates; with a history, the open deals have them
        shown_close = _us_date(close) if closed or history else ""
        rows.append(
            f"{hs_deal_id(key)},{name},{HS_STAGE[stage]},{amount},{shown_close},"
            f"{_us_date(created)},{REP_NAMES[owner]},Sales Pipeline,{HS_COMPANY[acct]},"
            "New Business" + "".join(f",{_entered(key, sid, style)}" for _, sid, style in entered)
        )
    return "\n".join(rows) + "\n"


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if '"' in text or "," in text else text


# No company has an owner (the column is there, empty).
COMPANIES_CSV = """\
Record ID,Company name,Company owner,Create Date,Industry,Country/Region
701,Acme Corp,,9/20/2016 00:00,Manufacturing,United States
702,Globex,,10/25/2016 00:00,Energy,Germany
703,Initech,,2/10/2017 00:00,Software,United States
704,Umbrella,,11/30/2016 00:00,Pharma,United Kingdom
705,Hooli,,12/5/2017 00:00,Software,United States
"""
OWNERS_CSV = """\
owner,team
Ana Lima,East
Ben Ode,East
Cy Park,West
Dee Ray,West
"""


def hubspot_export(folder: Path, history: str | None = None) -> Path:
    """Write the HubSpot export into ``folder`` (created); returns it. With ``history``
    ("labels" or "ids"), the deals carry "Date entered <stage>" columns in that style and
    the open deals their Close Date (P04 2018-01-31, P05 2018-01-15 are due in m+1)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "hubspot-crm-exports-all-deals-2018-01-02.csv": _deals_csv(history),
        "hubspot-crm-exports-all-companies-2018-01-02.csv": COMPANIES_CSV,
        "owners.csv": OWNERS_CSV,
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# ------------------------------------------------------------------ expected, by hand

MONTH = "2017-12"
FIRST_CLOSE = "2017-03"  # months before it: bookings, win rate, deal size, cycle n/a
DATA_THROUGH = "2017-12-31"  # W11 closes then; the last deal is created 2017-12-27

# account -> team by the spec's rule (today: every account without an owner is unassigned)
ACCOUNT_TEAMS = {
    "salesforce": {
        ACME: "Omar Haddad",  # latest won W11, Cy (its latest deal, L04, is Ana's)
        GLOBEX: "Maria Chen",  # latest won W10, Ben
        INITECH: "Omar Haddad",  # owner Cy, although both its deals are Ana's
        UMBRELLA: "Maria Chen",  # never won; latest deal P04, Ben
        HOOLI: "unassigned",  # no owner, no deal
    },
    "hubspot": {
        "Acme Corp": "West",
        "Globex": "East",
        "Initech": "East",  # no owner in HubSpot: latest won W08, Ana
        "Umbrella": "East",
        "Hooli": "unassigned",
    },
}
SALES_PER_REP = {"company": 6000 / 3, "Maria Chen": 2000 / 2, "Omar Haddad": 4000 / 1}
PIPELINE = 15000.0
STALE_PIPELINE_SHARE = 9500 / 15000 * 100  # 63.33 %, both fixtures
OVERDUE_PIPELINE_SHARE = 12000 / 15000 * 100  # 80 %, Salesforce; HubSpot: not available

# (column, check, rows) of the validation warnings about the deals (issue 21 items 1, 6,
# 10), besides the eight missing tables. Overdue = expected close before 2017-12-31.
SALESFORCE_WARNINGS = {
    ("account_id", "open_without_account", 2),  # P02, P05
    ("expected_close_at", "open_past_expected_close", 4),  # P01, P02, P03, P06
    ("deal_type", "one_deal_type", 21),  # all 21 'new'; Acme, Globex, Initech won 2+
}
HUBSPOT_WARNINGS = {
    ("account_id", "open_without_account", 2),
    ("expected_close_at", "open_without_expected_close", 6),  # P01..P06
    ("deal_type", "one_deal_type", 21),
}
