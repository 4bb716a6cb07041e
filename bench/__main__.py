"""`python -m bench [--only NAME ...] [--no-pages] [--staff N] [--repeat N]`: run the workloads, print a table.

With TAIZHANG_DATABASE_URL naming a PostgreSQL server, the district-scale
workloads run there too (in a fresh database created for the run)."""

from __future__ import annotations

import argparse
import sys

from bench import (
    compliance_bench,  # noqa: F401 - registers the compliance page workloads
    district_bench,  # noqa: F401 - registers the district's collection of school workbooks
    eligibility_bench,  # noqa: F401 - registers eligibility for all staff
    report_bench,  # noqa: F401 - registers the year-end report workload
    scale,  # registers the district-scale workloads; holds the bench's audit key
    training_bench,  # noqa: F401 - registers the attendance-rate views
)
from bench.workloads import REGISTRY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        choices=sorted(REGISTRY),
        action="append",
        help="run only this workload (repeat the option for several)",
    )
    parser.add_argument("--no-pages", action="store_true", help="leave out the informational page runs (page_*)")
    parser.add_argument("--staff", type=int, default=10_000, help="rows of the generated staff file (default 10000)")
    parser.add_argument("--repeat", type=int, default=0, help="runs per side, best taken (default 3, 2 for slow ones)")
    options = parser.parse_args(argv)
    scale.use_bench_audit_key()

    # Workloads with a baseline first, then the informational page runs (stable order otherwise).
    names = options.only or sorted(REGISTRY, key=lambda n: REGISTRY[n].target == 0)
    if options.no_pages:
        names = [n for n in names if REGISTRY[n].target != 0]
    header = ("workload", "ours (s)", "baseline (s)", "ratio", "target", "statements", "note")
    lines = []
    for name in names:
        item = REGISTRY[name]
        print(f"running {name}: {item.description}", file=sys.stderr, flush=True)
        result = item.run(options)
        done = len(lines)
        for m in result if isinstance(result, list) else [result]:
            shown = f"{name} [{m.label}]" if m.label else name
            statements = "" if m.statements is None else str(m.statements)
            if m.baseline is None:  # informational: no baseline, no target
                lines.append((shown, f"{m.ours:.3f}", "-", "-", "-", statements, m.note))
                continue
            ratio = m.ours / m.baseline if m.baseline else float("inf")
            flag = "" if ratio <= item.target else "  (over target)"
            lines.append(
                (
                    shown,
                    f"{m.ours:.3f}",
                    f"{m.baseline:.3f}",
                    f"{ratio:.2f}x{flag}",
                    f"<= {item.target:g}x",
                    statements,
                    m.note,
                )
            )
        for row in lines[done:]:  # as it goes, so a long run interrupted still shows what it measured
            print("  " + "  ".join(cell for cell in row if cell), file=sys.stderr, flush=True)
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
