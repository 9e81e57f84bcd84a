"""The appointments file the table and facets journeys share: 260 rows of a clinic's
appointments over 13 columns, made the same way every time."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

ROWS = 260  # six pages of 50
NAME = "Appointments"
HEADERS = [
    "id", "patient", "doctor", "status", "day", "attended", "fee", "room",
    "notes", "city", "insurer", "follow up", "minutes",
]  # fmt: skip
DOCTORS = ["Dr. Chen", "Dr. Okafor", "Dr. Silva", "Dr. Novak"]
STATUSES = ["booked", "seen", "cancelled"]


def appointments_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    for i in range(1, ROWS + 1):
        day = date(2024, 3, 1) + timedelta(days=i % 90)
        writer.writerow(
            [
                i,
                f"Patient {i:03d}",
                DOCTORS[i % 4],
                STATUSES[i % 3],
                day.isoformat(),
                "yes" if i % 2 else "no",
                f"{40 + i % 7 * 12.5:.2f}",
                100 + i % 9,
                "" if i % 3 else f"note about visit {i}",
                ["Lisbon", "Oslo", "Porto"][i % 3],
                ["Acme Health", "Northwind Mutual", ""][i % 3],
                "" if i % 4 else (day + timedelta(days=14)).isoformat(),
                15 + i % 4 * 15,
            ]
        )
    return out.getvalue()
