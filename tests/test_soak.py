"""The soak, CI-sized (#19 item 15): `bench/soak.py` with small numbers, as a subprocess.

About 300 emails through the fault-injecting SMTP server (4xx and 5xx at RCPT and DATA, a line
dropped before QUIT, a slow server, a short outage), two workers, one `kill -9`, two
terminations of the workers' PostgreSQL connections, three customers paying from four tabs at
once while a web process is killed. Nothing lost, duplicated (beyond the one kill's window),
wrongly failed or stuck; no double charge, no balance mismatch. The soak makes and drops a
database of its own on the server of TEST_DATABASE_URL; skipped on SQLite (CI's first pass)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATABASE = os.environ.get("TEST_DATABASE_URL", "")

pytestmark = pytest.mark.skipif(not DATABASE.startswith("postgresql"),
                                reason="needs PostgreSQL (CI's second pass)")

CI_SIZE = ["--emails", "300", "--workers", "2", "--duration", "30", "--kills", "1",
           "--terminations", "2", "--outage", "3", "--customers", "3", "--tabs", "4",
           "--bursts", "1", "--slow", "1", "--lease", "4", "--warp", "240",
           "--drain-timeout", "45"]


@pytest.mark.timeout(170)
def test_the_soak_loses_duplicates_and_double_charges_nothing(tmp_path):
    out = tmp_path / "soak.json"
    run = subprocess.run([sys.executable, "-m", "bench.soak", *CI_SIZE, "--pg", DATABASE,
                          "--json", str(out), "--logs", str(tmp_path / "logs")],
                         cwd=ROOT, capture_output=True, text=True, timeout=150)
    printed = run.stdout[-4000:] + run.stderr[-2000:]
    assert out.exists(), printed
    result = json.loads(out.read_text())
    counts, events = result["counts"], result["events"]
    assert events["worker kills"] == 1 and events["web kills"] == 1, printed
    assert events["terminations"] == 2 and events["smtp outages"] == 1, printed
    assert {k: counts[k] for k in ("lost", "wrongly failed", "stuck", "double charges",
                                   "balance mismatches")} == dict.fromkeys(
        ("lost", "wrongly failed", "stuck", "double charges", "balance mismatches"), 0), printed
    assert counts["duplicated"] <= events["worker kills"], printed
    assert run.returncode == 0 and result["ok"], printed
