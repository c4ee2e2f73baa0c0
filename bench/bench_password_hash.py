"""What one check of the coach's PIN costs, per hash method (not a test).

    python bench/bench_password_hash.py            # 15 checks a method
    python bench/bench_password_hash.py --quick    # 3 checks a method

For each candidate prints, as a Markdown table: the median wall time of one
``check_password_hash`` with a wrong PIN, and the peak extra resident memory
of one check, measured in a fresh child process (its ``VmHWM`` after the
check minus before it; Linux only). scrypt's memory is 128 · N · r bytes by design;
PBKDF2 needs almost none.

A Raspberry Pi Zero 2 W (Cortex-A53 at 1 GHz, 512 MB) runs SHA-256 and
scrypt's Salsa20 roughly 8-12× slower than a current x86 server core (an
estimate from published OpenSSL speed figures, not measured here): the Pi
column is the time here × 10. ``web/auth.py`` explains the choice.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from werkzeug.security import check_password_hash, generate_password_hash

METHODS = (
    "scrypt:32768:8:1",  # werkzeug's default: 32 MiB a check
    "scrypt:16384:8:1",  # 16 MiB
    "scrypt:4096:8:1",  # 4 MiB
    "scrypt:2048:8:1",  # 2 MiB
    "scrypt:1024:8:1",  # 1 MiB
    "pbkdf2:sha256:600000",  # werkzeug's default PBKDF2 cost
    "pbkdf2:sha256:50000",
    "pbkdf2:sha256:25000",
)

_CHILD = """
import json, sys
from werkzeug.security import check_password_hash

def peak_kib():  # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

stored = sys.argv[1]
check_password_hash("pbkdf2:sha256:1$salt$00", "0000")  # imports and hashlib loaded, no scrypt yet
before = peak_kib()
check_password_hash(stored, "1357")
print(json.dumps({"kib": peak_kib() - before}))
"""


def check_time_ms(stored: str, checks: int) -> float:
    times = []
    for _ in range(checks):
        started = time.perf_counter()
        check_password_hash(stored, "1357")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def peak_memory_mib(stored: str) -> float:
    # A fresh process each time: the peak only grows, so one process can measure one check.
    out = subprocess.run([sys.executable, "-c", _CHILD, stored], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["kib"] / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    checks = 3 if args.quick else 15
    print("| method | one check, median (ms) | Pi Zero 2 W, estimated (ms) | peak extra memory (MiB) |")
    print("|---|---:|---:|---:|")
    for method in METHODS:
        stored = generate_password_hash("2468", method=method)
        ms = check_time_ms(stored, checks)
        print(f"| {method} | {ms:.1f} | {ms * 10:.0f} | {peak_memory_mib(stored):.1f} |", flush=True)


if __name__ == "__main__":
    main()
