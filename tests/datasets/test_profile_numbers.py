"""The profile shows numbers as people read them: a mean of 12,490.12, not 1.249e+04, and six
empty cells of 5,030 as 0.1%, not 0%."""

from __future__ import annotations

import re
import statistics

from tests.helpers import make_dataset


def test_profile_numbers_are_plain(app, people, editor_client):
    amounts = [12490.123 + (i % 7) * 0.5 for i in range(5024)]
    body = "amount,rate\n" + "".join(f"{a},0.0000{i % 9 + 1}\n" for i, a in enumerate(amounts))
    body += ",\n" * 6
    dataset = make_dataset(app, people["editor"], body, name="Charges")
    page = editor_client.get(f"/datasets/{dataset.id}/profile").get_data(as_text=True)
    assert "e+0" not in page and "e-0" not in page
    assert "6 (0.1%)" in page
    mean = f"{statistics.mean(amounts):,.2f}"
    assert re.search(rf"<dt>Mean</dt><dd>{re.escape(mean)}</dd>", page), mean
    assert "0.00005" in page  # a small mean keeps its significant digits
    assert "5,030 rows" in page
