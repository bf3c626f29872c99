"""Benchmark: how well ``pledge scan`` finds personal columns, and how fast it samples.

Goal: per-column precision ≥ 0.95 and recall ≥ 0.9, ≥ 20,000 sampled values/s. Run it alone
with ``.venv/bin/python bench/scan.py``.

:func:`scan_data.generate` writes five SQLite databases and returns the ground truth per
column: our own synthetic one, with the hard cases of a company's tables (Luhn-valid order
numbers, phone-like product codes, IPv4-like firmware versions, obfuscated column names, 5 %
sparse e-mail addresses), and four shaped like public sample databases none of us wrote
(Sakila, Chinook, Northwind, AdventureWorks), with their integer keys named after what they
point to (``address_id``, ``EmailAddressID``), hire, order and update dates, CamelCase and
spaced names, photos and notes. ``scan_data``'s docstring says what counts as personal there.

A column counts as found when the scan reports it (confidence ≥ 0.5); columns listed as only
*possibly* personal are not counted. Precision and recall are per column, over all five
databases; "category agrees" is the share of true findings with the expected category.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine

from harness import Result
from pledge.datastores.scan import ScanReport, scan
from scan_data import SEED, generate

GOAL_PRECISION, GOAL_RECALL, GOAL_RATE = 0.95, 0.9, 20_000
REGIONS = ("US", "DE")
"""Where national phone numbers are read: a permissive plan (DE) takes most codes for numbers."""

Found = dict[tuple[str, str, str], str]
"""Reported columns, ``(database, table, column)`` → category."""


def scan_all(folder: Path, databases: list[str], region: str, sample: int) -> list[ScanReport]:
    """Scan each database in ``folder`` with phone numbers read in ``region``."""
    reports = []
    for name in databases:
        engine = create_engine(f"sqlite:///{folder / name}.db")
        try:
            reports.append(scan(engine, sample=sample, region=region))
        finally:
            engine.dispose()
    return reports


def measure(sample: int = 1_000) -> Result:
    """Generate the databases, scan them with phone numbers read in the US and Germany, score."""
    with tempfile.TemporaryDirectory() as folder:
        truths = generate(Path(folder))
        scanned = {
            region: scan_all(Path(folder), list(truths), region, sample) for region in REGIONS
        }
    truth = {
        (database, table, column): category
        for database, columns in truths.items()
        for (table, column), category in columns.items()
    }
    positives = {column for column, category in truth.items() if category is not None}
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    met = True
    for region, reports in scanned.items():
        found: Found = {
            (database, item.table, item.column): item.category
            for database, report in zip(truths, reports, strict=True)
            for item in report.findings
        }
        hits = positives & found.keys()
        precision = len(hits) / len(found) if found else 1.0
        recall = len(hits) / len(positives)
        agree = sum(found[column] == truth[column] for column in hits) / max(len(hits), 1)
        values = sum(report.values for report in reports)
        seconds = sum(report.seconds for report in reports)
        rate = values / seconds
        rows.append((region, f"{precision:.3f}", f"{recall:.3f}", f"{agree:.3f}", f"{rate:,.0f}"))
        false = sorted(".".join(column) for column in found.keys() - positives)
        missed = sorted(".".join(column) for column in positives - found.keys())
        possible = sum(len(report.possible) for report in reports)
        notes.append(
            f"{region}: {values:,} values in {seconds:.2f} s, false: {', '.join(false) or 'none'},"
            f" missed: {', '.join(missed) or 'none'}, {possible} listed as possibly personal."
        )
        met = met and precision >= GOAL_PRECISION and recall >= GOAL_RECALL and rate >= GOAL_RATE
    tables = len({(database, table) for database, table, _ in truth})
    return Result(
        title="Discover undeclared personal data (`pledge scan`)",
        setup=(
            f"Five SQLite databases (seed {SEED}): {tables} tables, {len(truth)} columns,"
            f" {len(positives)} of them personal. Our own synthetic one, with hard negatives"
            " (Luhn-valid order numbers, phone-like product codes, IPv4-like versions, old"
            " non-birth dates) and hard positives (obfuscated names, 5 % sparse e-mails), and"
            " four shaped like Sakila, Chinook, Northwind and AdventureWorks (integer keys named"
            " after addresses and e-mails, hire, order and update dates, CamelCase and spaced"
            f" names, photos, notes about people). {sample:,} rows sampled per table; national"
            f" phone numbers read in each region. Goals: precision ≥ {GOAL_PRECISION}, recall"
            f" ≥ {GOAL_RECALL}, ≥ {GOAL_RATE:,} values/s. " + " ".join(notes)
        ),
        columns=("region", "precision", "recall", "category agrees", "sampled values/s"),
        rows=rows,
        goal_met=met,
    )


if __name__ == "__main__":
    for line in measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000).markdown():
        print(line)
