#!/usr/bin/env python3
"""The engine benchmark against CLIPS, in one command (docs/performance.md, "Engine benchmark
against CLIPS"). Python 3 standard library only.

    tools/bench/run_engine_bench.py [--sizes 50,200,1000] [--passes 7] [--no-callgrind]
                                    [--build-dir DIR] [--skip-build]

1. configures and builds the `bench` preset (rapa_bench_engine, -j1: the machine is shared);
2. generates the workloads with ../shared/bench/gen.py (seed 1, D=100, P=10000, F=24) into
   <build>/bench-data/R<R>_P10000 when they are missing;
3. writes rapa's checksum file for each R and compares it byte for byte (cmp) with
   ../shared/bench/results/checksums/R<R>_P10000.tsv: a difference stops everything;
4. times rapa and CLIPS (keep-KB) side by side in one process (--engine both), then each engine in
   a process of its own for its peak memory;
5. counts instructions per patient with callgrind: P=1000, (Ir of 2 passes - Ir of 1 pass) / P;
6. prints a markdown table, with the machine, the date and the commit.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared", "bench"))
CALLGRIND_PATIENTS = 1000


def run(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def engine_json(tool, data, *args):
    out = run([tool, data, "--json", *args], stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def callgrind_ir(tool, data, engine, passes):
    """Total instructions (Ir) of one run under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, tool, data, "--engine", engine,
             "--limit", str(CALLGRIND_PATIENTS), "--passes", str(passes), "--changes", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            for line in f:
                match = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if match:
                    return int(match.group(1))
    raise RuntimeError("no instruction total in the callgrind output")


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    def git(*args):
        return subprocess.run(["git", "-C", REPO, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    # Figures from uncommitted changes must say so: the commit alone would not reproduce them.
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " with uncommitted changes"
    return "nproc %d, %s; %s; commit %s" % (os.cpu_count() or 0, model, datetime.date.today().isoformat(), commit)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="50,200,1000", help="rule counts R (default 50,200,1000)")
    ap.add_argument("--passes", type=int, default=7, help="timed passes over the cohort (default 7)")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build", "bench"),
                    help="the bench preset's build directory (default build/bench)")
    ap.add_argument("--skip-build", action="store_true", help="use the rapa_bench_engine already built")
    args = ap.parse_args()
    sizes = [int(r) for r in args.sizes.split(",")]
    build = os.path.abspath(args.build_dir)

    if not os.path.isfile(os.path.join(SHARED, "gen.py")):
        sys.exit("run_engine_bench: no workload generator at %s (../shared/bench beside the repository)" % SHARED)
    if not args.skip_build:
        if build == os.path.join(REPO, "build", "bench"):
            run(["cmake", "--preset", "bench"], cwd=REPO, stdout=subprocess.DEVNULL)
        else:
            run(["cmake", "-S", REPO, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
                 "-DRAPA_BUILD_BENCHMARKS=ON"], stdout=subprocess.DEVNULL)
        run(["cmake", "--build", build, "--target", "rapa_bench_engine", "--", "-j1"])
    tool = os.path.join(build, "tools", "bench", "rapa_bench_engine")

    rows = []
    for r in sizes:
        data = os.path.join(build, "bench-data", "R%d_P10000" % r)
        if not os.path.isfile(os.path.join(data, "MANIFEST.json")):
            run([sys.executable, os.path.join(SHARED, "gen.py"), "--seed", "1", "-R", str(r), "-D", "100",
                 "-P", "10000", "-F", "24", "-o", data], stdout=subprocess.DEVNULL)

        mine = os.path.join(data, "rapa_checksums.tsv")
        expected = os.path.join(SHARED, "results", "checksums", "R%d_P10000.tsv" % r)
        run([tool, data, "--verify", mine, "--engine", "rapa"], stdout=subprocess.DEVNULL)
        if subprocess.run(["cmp", "-s", mine, expected]).returncode != 0:
            subprocess.run([sys.executable, os.path.join(SHARED, "canon.py"), expected, mine])
            sys.exit("run_engine_bench: R=%d: rapa's checksums differ from %s (rapa's: %s)" % (r, expected, mine))
        print("R=%d: rapa's checksum file is identical to %s" % (r, expected), file=sys.stderr)

        both = engine_json(tool, data, "--engine", "both", "--passes", str(args.passes))
        memory = {e: engine_json(tool, data, "--engine", e, "--passes", "1", "--changes", "0")["peak_rss_kib"]
                  for e in ("rapa", "clips")}
        ir = {}
        if not args.no_callgrind:
            for e in ("rapa", "clips"):
                one = callgrind_ir(tool, data, e, 1)
                two = callgrind_ir(tool, data, e, 2)
                ir[e] = (two - one) / CALLGRIND_PATIENTS
        rows.append((r, both, memory, ir))

    def pair(a, b, fmt):
        return (fmt % a) + " / " + (fmt % b)

    print()
    print("Machine: " + machine())
    print("Command: tools/bench/run_engine_bench.py " + " ".join(sys.argv[1:]))
    print("Per patient: clear + assert + run + collect, CPU, median [min-max] of %d passes over 10000 patients "
          "after 1 warm-up; two numbers are rapa / CLIPS." % args.passes)
    print()
    print("| R | rapa µs/patient | CLIPS keep-KB µs/patient | CLIPS ÷ rapa | patients/s | load ms | peak MiB "
          "| Ir/patient | single-fact change µs |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r, both, memory, ir in rows:
        a, c = both["rapa"], both["clips"]
        change = a.get("single_fact_change", {})
        print("| %d | %.1f [%.1f–%.1f] | %.1f [%.1f–%.1f] | %.2f | %s | %s | %s | %s | %s |" % (
            r, a["us_per_patient_median"], a["us_per_patient_min"], a["us_per_patient_max"],
            c["us_per_patient_median"], c["us_per_patient_min"], c["us_per_patient_max"],
            c["us_per_patient_median"] / a["us_per_patient_median"],
            pair(a["patients_per_s"], c["patients_per_s"], "%.0f"),
            pair(a["load_ms"], c["load_ms"], "%.1f"),
            pair(memory["rapa"] / 1024, memory["clips"] / 1024, "%.1f"),
            "{:,.0f} / {:,.0f}".format(ir["rapa"], ir["clips"]) if ir else "–",
            "%.1f (retract %.1f, assert %.1f)" % (change["change_us_median"], change["retract_us_median"],
                                                 change["assert_us_median"]) if change else "–"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
