"""The browse benchmark's summary made by one statement and shared by two threads, in turn.

Loads the first ``--rows`` rows of the benchmark's CSV into a dataset file (once, kept in
``--data``), then makes browse_bench's SUMMARY_QUERY ``--repeat`` times each way, alternating,
and prints the wall-clock and CPU medians and minimums of both, and whether every figure was
the same. Meant for a busy machine: compare the two in one run, not with another run::

    .venv/bin/python bench/summary_ab.py --csv /tmp/speed-bench/csv/<file>.csv \
        --data /tmp/sheaf-summary-ab --rows 200000

The last line printed is machine-readable:
``RESULT one_s=<wall median> shared_s=<wall median> one_cpu_s=<n> shared_cpu_s=<n> same=<bool>``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

from browse_bench import ROOT, SUMMARY_QUERY


def dataset(csv_path: Path, rows: int, folder: Path) -> tuple[Path, list]:
    """The dataset file of the CSV's first ``rows`` rows (made once) and its columns."""
    from server.datasets.loading.pipeline import load_file
    from server.datasets.storage import Column

    path = folder / f"summary-{rows}.sqlite"
    described = path.with_suffix(".columns.json")
    if not path.exists() or not described.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"summary-{rows}.csv"
        with csv_path.open("rb") as source, part.open("wb") as target:
            target.writelines(itertools.islice(source, rows + 1))  # the header, then rows
        outcome = load_file(part, path)
        part.unlink()
        described.write_text(json.dumps([c.as_dict() for c in outcome.columns]))
    return path, [Column.from_dict(d) for d in json.loads(described.read_text())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, required=True, help="the benchmark's CSV")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--data", type=Path, required=True, help="folder kept between runs")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from server.datasets.reading import summary
    from server.datasets.reading.browse import View
    from server.sqlite_files import connect

    path, columns = dataset(args.csv, args.rows, args.data)
    by = {c.name: c for c in columns}
    groupings = [
        summary.Grouping(by[SUMMARY_QUERY["by"]]),
        summary.Grouping(by[SUMMARY_QUERY["then"]], SUMMARY_QUERY["then_period"]),
    ]
    measures = [summary.Measure(SUMMARY_QUERY["fn1"], by[SUMMARY_QUERY["of1"]])]

    def made(shared: bool) -> summary.Summary:
        con = connect(path)
        try:
            more = (lambda: connect(path)) if shared else None
            return summary.summarize(con, columns, View(), True, groupings, measures, more)
        finally:
            con.close()

    times: dict[bool, tuple[list[float], list[float]]] = {False: ([], []), True: ([], [])}
    found: dict[bool, summary.Summary] = {}
    for _ in range(args.repeat):
        for shared in (False, True):
            wall, cpu = time.perf_counter(), time.process_time()
            found[shared] = made(shared)
            times[shared][0].append(time.perf_counter() - wall)
            times[shared][1].append(time.process_time() - cpu)
    same = found[False].rows == found[True].rows
    for shared, (walls, cpus) in times.items():
        print(
            f"{'shared' if shared else 'one statement':13s} wall median "
            f"{statistics.median(walls):.3f} s, min {min(walls):.3f} s; CPU median "
            f"{statistics.median(cpus):.3f} s ({len(found[shared].rows)} groups)"
        )
    print(
        f"RESULT one_s={statistics.median(times[False][0]):.3f} "
        f"shared_s={statistics.median(times[True][0]):.3f} "
        f"one_cpu_s={statistics.median(times[False][1]):.3f} "
        f"shared_cpu_s={statistics.median(times[True][1]):.3f} same={same}"
    )


if __name__ == "__main__":
    main()
