"""Time to refusal and memory growth of each hostile spreadsheet of tests/hostile_files.py (issue 21),
and of a real bank of 5,000 questions for comparison.

    .venv/bin/python bench/import_limits_bench.py [--timeout 60] [--tree PATH]

Each file is read by lms.quiz.transfer.read_table in a fresh process that has already imported the
app's modules and read one small workbook (as a worker that has served an import before). Memory is
the growth of the process's peak resident set (VmHWM, reset through /proc/self/clear_refs just
before the read) over its resident set then. A read still running after --timeout seconds is
stopped and reported with the memory it had reached. --tree runs another checkout (e.g. the code
before the change, with tests/hostile_files.py copied into it).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, threading, time
sys.path.insert(0, os.getcwd())
path, filename, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
from lms.quiz import transfer
transfer.read_table(transfer.template_xlsx(), "warm.xlsx", 5 * 1024 * 1024)  # the lazy imports, once
data = open(path, "rb").read()

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

def report(**fields):
    fields["growth_mb"] = round((status("VmHWM") - base) / 2 ** 20, 1)
    print(json.dumps(fields), flush=True)
    os._exit(0)

with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")
base = status("VmRSS")
start = time.monotonic()
threading.Timer(timeout, lambda: report(outcome="still running", seconds=timeout)).start()
try:
    rows = len(transfer.read_table(data, filename, 5 * 1024 * 1024)) - 1
    outcome = f"read: {rows} rows"
except transfer.TransferError as error:
    outcome = f"refused: {error.code}"
report(outcome=outcome, seconds=round(time.monotonic() - start, 3))
"""


def real_bank(count: int = 5000) -> bytes:
    import random

    from lms.quiz import transfer
    rng = random.Random(1)

    def text(n):
        return "".join(rng.choice("安全生产培训考试题库危险化学品特种作业应急管理法律法规") for _ in range(n))
    rows = [list(transfer.HEADERS)] + [
        ["单选题", text(120) + str(n), text(20), text(20), text(20), text(20), "", "", "", "", "A", text(200), text(6), ""]
        for n in range(count)]
    return transfer.to_xlsx(rows)


FILES = [  # (builder in tests/hostile_files.py, file name, label)
    ("far_row", "bank.xlsx", "XLSX, one row numbered 99,999,999,999"),
    ("last_column", "bank.xlsx", "XLSX, 5,000 rows with a cell in column XFD"),
    ("shared_strings_bomb", "bank.xlsx", "XLSX, 60 MB of shared strings"),
    ("many_strings", "bank.xlsx", "XLSX, 100,500 distinct shared strings, count not declared"),
    ("long_string", "bank.xlsx", "XLSX, a 40,000-character string"),
    ("deep_nesting", "bank.xlsx", "XLSX, 5,000 nested elements in a cell"),
    ("entity_expansion", "bank.xlsx", "XLSX, a DTD of nested entities"),
    ("blank_lines_csv", "bank.csv", "CSV, a header and 4 MB of empty lines"),
    ("wide_csv", "bank.csv", "CSV, a value in column 200,000"),
]


def files():
    sys.path.insert(0, str(ROOT))
    from tests import hostile_files as hostile
    yield "real bank, 5,000 questions (accepted)", "bank.xlsx", real_bank()
    for name, filename, label in FILES:
        yield label, filename, getattr(hostile, name)()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--tree", default=str(ROOT))
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; tree {args.tree}")
    print("| file | size | outcome | time | memory growth |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for label, filename, data in files():
            path = Path(folder) / filename
            path.write_bytes(data)
            result = subprocess.run([sys.executable, "-c", CHILD, str(path), filename, str(args.timeout)],
                                    cwd=args.tree, capture_output=True, text=True, timeout=args.timeout + 120)
            try:
                figures = json.loads(result.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                figures = {"outcome": f"died ({result.returncode}): {result.stderr.strip()[-120:]}",
                           "seconds": "-", "growth_mb": "-"}
            print(f"| {label} | {len(data) / 1024:,.1f} KB | {figures['outcome']} | {figures['seconds']} s | "
                  f"{figures['growth_mb']} MB |", flush=True)


if __name__ == "__main__":
    main()
