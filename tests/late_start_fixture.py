"""A CRM export in small: deals created from 2016-10, the first one closed in 2017-03,
no expected close dates (a HubSpot export leaves them empty), leads that stop in January.

Deals (created, stage, amount, closed, rep):
  D1 2016-10-05 won   1,000 closed 2017-03-10 R1 (North)
  D2 2016-11-05 lost    500 closed 2017-04-10 R2 (North)
  D3 2016-12-05 won   2,000 closed 2017-04-20 R1
  D4 2017-01-05 open    700                   R1
  D5 2017-02-05 open    300                   R3 (South)
  D6 2017-03-05 won     400 closed 2017-05-31 18:00 R2: the last event of the data

Worked out by hand:
- the first deal is in 2016-10, the first closed deal in 2017-03, the first lead in 2016-11;
  the data covers 2016-10..2017-05 and runs through 2017-05-31 18:00 (D6's close, though
  the last deal was created on 2017-03-05); the leads end on 2017-01-15;
- bookings: 2017-03 1,000 (D1), 2017-04 2,000 (D3), 2017-05 400 (D6); before 2017-03 not
  available ("before the first closed deal, 2017-03"), not 0;
- pipeline value at the end of 2016-12: D1 + D2 + D3 = 3,500; at the end of 2017-05: D4 + D5
  = 1,000 (D6 closed on the 31st);
- win rate 2017-04: D3 won, D2 lost: 50 %;
- open at the end of 2017-05: D4 and D5, neither with an expected close date: the
  pipeline-weighted forecast of 2017-06 is not available (South: D5 alone).
"""

from __future__ import annotations

import pandas as pd

DEAL_COLUMNS = [
    "opportunity_id",
    "created_at",
    "stage",
    "amount",
    "closed_at",
    "rep_id",
    "account_id",
    "expected_close_at",
]


def tables(expected: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The tables; ``expected`` sets deals' expected close dates (id -> date)."""
    deals = pd.DataFrame(
        [
            ("D1", "2016-10-05", "closed_won", 1000.0, "2017-03-10", "R1", "A1", None),
            ("D2", "2016-11-05", "closed_lost", 500.0, "2017-04-10", "R2", "A2", None),
            ("D3", "2016-12-05", "closed_won", 2000.0, "2017-04-20", "R1", "A3", None),
            ("D4", "2017-01-05", "prospecting", 700.0, None, "R1", "A1", None),
            ("D5", "2017-02-05", "proposal", 300.0, None, "R3", "A2", None),
            ("D6", "2017-03-05", "closed_won", 400.0, "2017-05-31 18:00", "R2", "A2", None),
        ],
        columns=DEAL_COLUMNS,
    )
    for deal, day in (expected or {}).items():
        deals.loc[deals["opportunity_id"] == deal, "expected_close_at"] = day
    return {
        "reps": pd.DataFrame(
            {
                "rep_id": ["R1", "R2", "R3"],
                "rep_name": ["Ana", "Ben", "Cy"],
                "team": ["North", "North", "South"],
            }
        ),
        "accounts": pd.DataFrame(
            {"account_id": ["A1", "A2", "A3"], "owner_rep_id": ["R1", "R2", "R1"]}
        ),
        "opportunities": deals,
        "leads": pd.DataFrame(
            {
                "lead_id": ["L1", "L2"],
                "created_at": ["2016-11-20", "2017-01-15"],
                "rep_id": ["R1", "R2"],
            }
        ),
    }
