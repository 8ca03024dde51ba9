"""CRM calls per memorialization job, per vendor, measured on the simulators.

    .venv/bin/python bench/crm_calls_per_job.py

Runs tests/memorialization/test_crm_timelines.py (every CRM with a simulator: two jobs, a
contact's fields and activity and a case's, through the real adapter over loopback HTTP)
and prints the ``crmCallsPerJob`` property each test records: the requests each job made,
as counted from the adapter's replies. The first interaction's jobs also read the CRM's
record types and fields (cached for later jobs); the second interaction's jobs, for the same
two records, are the steady state.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "junit_family=legacy",
                f"--junitxml={report}",
                "tests/memorialization/test_crm_timelines.py",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            return done.returncode
        tree = ElementTree.parse(report)
    rows: dict[str, dict[str, str]] = {}
    for prop in tree.iter("property"):
        name = prop.get("name") or ""
        if name in ("crmCallsPerJob", "crmCallsPerJobWarm"):
            vendor, _, counts = (prop.get("value") or "").partition("=")
            rows.setdefault(vendor, {})[name] = counts.replace(",", " / ")
    print(f"{'CRM':<12} {'first (contact / case)':>24} {'steady (contact / case)':>25}")
    for vendor, counts in rows.items():
        first = counts.get("crmCallsPerJob", "-")
        steady = counts.get("crmCallsPerJobWarm", "-")
        print(f"{vendor:<12} {first:>24} {steady:>25}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
