"""Run every benchmark in turn, print one table, write bench/results/latest.json.

    .venv/bin/python bench/run_all.py            # everything, about 5 minutes
    .venv/bin/python bench/run_all.py --only gallery restart

A benchmark that fails outright is reported as such and the others still run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

import ack_latency
import gallery
import many_servers
import memory
import openai_client
import overhead
import processes
import rate_limit
import restart
import sidebyside
import uploads
from _harness import RESULTS_DIR, Result, machine, print_table, save_results

BENCHMARKS: dict[str, Callable[[], Awaitable[list[Result]]]] = {
    "ack_latency": lambda: ack_latency.main(jobs=1000, members=50, rounds=3),
    "overhead": lambda: overhead.main(latency=2.0, rounds=[1, 20]),
    "sidebyside": lambda: sidebyside.main(latency=2.0, sequential=10, concurrent=20),
    "openai_client": lambda: openai_client.main(rounds=5, calls=200, pictures=40),
    "rate_limit": lambda: rate_limit.main(budget=30, minutes=2, latency=2.0),
    "memory": lambda: memory.main(jobs=1000, images=10_000),
    "many_servers": lambda: many_servers.main(servers=10_000),
    "processes": lambda: processes.main(
        jobs=60, latency=2.0, concurrent=10, queued=100_000, servers=10_000
    ),
    "gallery": lambda: gallery.main(images=100_000, repeat=5),
    "restart": lambda: restart.main(jobs=1000, restarts=3),
    "uploads": lambda: uploads.main(members=10),
}


def _loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None)
    args = parser.parse_args()
    chosen = args.only or list(BENCHMARKS)
    latest = RESULTS_DIR / "latest.json"
    if args.only is None:
        latest.unlink(missing_ok=True)  # a full run replaces every figure
    print("Machine:", json.dumps(machine()))
    results: list[Result] = []
    started = time.monotonic()
    for name in chosen:
        print(f"\n=== {name}", flush=True)
        t0 = time.monotonic()
        load_before = _loadavg()
        try:
            out = asyncio.run(BENCHMARKS[name]())
        except Exception as exc:
            traceback.print_exc()
            out = [
                Result(
                    name=name,
                    metric="(failed to run)",
                    value=None,
                    target="-",
                    met=False,
                    note=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                )
            ]
        for result in out:
            result.details["seconds"] = round(time.monotonic() - t0, 1)
            # Others' work on a shared machine shows here; compare figures with it in mind.
            result.details["loadavg_1min_before_after"] = [load_before, _loadavg()]
        print_table(out)
        save_results(out)
        results += out
    print(f"\n=== all ({time.monotonic() - started:.0f} s)")
    print_table(results)
    print(f"\nResults: {latest}")
    return 0 if all(r.met is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
