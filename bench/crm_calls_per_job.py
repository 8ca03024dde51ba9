"""CRM calls per memorialization job, per vendor, measured on the simulators.

    .venv/bin/python bench/crm_calls_per_job.py

Runs tests/memorialization/test_crm_timelines.py (every CRM with a simulator: two jobs, a
contact's fields and activity and a case's, through the real adapter over loopback HTTP)
and prints the ``crmCallsPerJob`` property each test records: the requests each job made,
as counted from the adapter's replies. The first job also reads the CRM's record types and
fields (cached for later jobs).
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
    print(f"{'CRM':<12} {'job 1 (first)':>14} {'job 2':>6}")
    for prop in tree.iter("property"):
        if prop.get("name") == "crmCallsPerJob":
            vendor, _, counts = (prop.get("value") or "").partition("=")
            first, _, second = counts.partition(",")
            print(f"{vendor:<12} {first:>14} {second:>6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
