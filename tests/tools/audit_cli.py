#!/usr/bin/env python3
"""`rapa audit` end to end: usage and error exits, tampering found through the command line, a
batch saved record by record (and killed midway), and every example of docs/audit.md.

usage: audit_cli.py RAPA_EXECUTABLE cli|batch|docs
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

from cli_support import ROOT, check, expect_status, main, run, run_doc_examples


def scenario_cli(rapa):
    patient = os.path.join(ROOT, "examples", "patients", "itp_adult.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "audit.sqlite")
        expect_status(run(rapa, "audit", "--help"), 0, "audit --help")
        for args in (["audit"], ["audit", "frobnicate"], ["audit", "show"], ["audit", "show", "x"],
                     ["audit", "list", "--format", "json"], ["audit", "verify", "--rules", "r"],
                     ["audit", "--no-such-option", "list"]):
            expect_status(run(rapa, *args), 2, " ".join(args))
        # No store there: an error, and none is created.
        result = run(rapa, "audit", "--db", db, "list")
        expect_status(result, 1, "list without a store")
        check(b"no audit database there" in result.stderr, f"missing store: {result.stderr!r}")
        check(not os.path.exists(db), "rapa audit created a store")
        # The default path comes from the environment.
        env = dict(os.environ, RAPA_AUDIT_DB=db)
        for _ in range(3):
            result = run(rapa, "advise", "--audit", "--format", "json", patient, env=env)
            expect_status(result, 0, "advise --audit")
        result = run(rapa, "audit", "list", env=env)
        expect_status(result, 0, "list")
        check(len(result.stdout.decode().strip().split("\n")) == 4, f"list: {result.stdout!r}")
        result = run(rapa, "audit", "--db", db, "show", "2", "--format", "json")
        expect_status(result, 0, "show --format json")
        record = json.loads(result.stdout)
        check(record["id"] == 2 and record["patient_input"] == open(patient).read(), "show: the stored input")
        check(record["advice"]["advice"][0]["proof"]["steps"], "show: the advice with its proofs")
        expect_status(run(rapa, "audit", "--db", db, "show", "9"), 1, "show of a missing record")
        expect_status(run(rapa, "audit", "--db", db, "verify"), 0, "verify")
        result = run(rapa, "audit", "--db", db, "replay", "3")
        expect_status(result, 0, "replay")
        check(b"advice: unchanged" in result.stdout, f"replay: {result.stdout!r}")
        # Replay on another rule base: here, the bundled rules without the monitoring file.
        rules_dir = os.path.join(ROOT, "rules")
        rules = [os.path.join(rules_dir, name) for name in sorted(os.listdir(rules_dir))
                 if name != "monitoring.rules"]
        args = ["audit", "--db", db, "replay", "1"]
        for path in rules + [os.path.join(ROOT, "kb")]:
            args += ["--rules", path]
        result = run(rapa, *args)
        expect_status(result, 0, "replay on other rules")
        out = result.stdout.decode()
        check("rule base: changed" in out and "\n  - " in out, f"replay on other rules: {out}")
        # Delete the middle record behind rapa's back.
        with sqlite3.connect(db) as connection:
            connection.execute("DELETE FROM consultations WHERE id = 2")
        result = run(rapa, "audit", "--db", db, "verify")
        expect_status(result, 1, "verify after a deletion")
        check(b"record 2 is missing" in result.stdout, f"verify after a deletion: {result.stdout!r}")
        # Not a database at all.
        text = os.path.join(tmp, "notes.txt")
        open(text, "w").write("not a database, but long enough to have a header of sorts, surely\n")
        result = run(rapa, "audit", "--db", text, "verify")
        expect_status(result, 1, "verify of a text file")
        check(b"file is not a database" in result.stderr, f"text file: {result.stderr!r}")


def scenario_batch(rapa):
    """`rapa advise --batch --audit` saves every record it advised, in input order, and a batch
    killed midway leaves every record it saved intact and chained."""
    cohort = os.path.join(ROOT, "examples", "patients", "cohort.ndjson")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "audit.sqlite")
        result = run(rapa, "advise", "--batch", cohort, "--audit=" + db, "--jobs", "2")
        expect_status(result, 1, "batch --audit of the example cohort (line 4 is bad)")
        lines = result.stdout.decode().strip().split("\n")
        with sqlite3.connect(db) as connection:
            rows = connection.execute("SELECT id, patient_name, patient_input, advice FROM consultations ORDER BY id").fetchall()
        cohort_lines = open(cohort).read().split("\n")
        advised = [json.loads(line) for line in lines if "error" not in json.loads(line)]
        check(len(rows) == len(advised) == 3, f"{len(rows)} records saved for {len(advised)} advised")
        for (id_, name, patient_input, advice), result_line in zip(rows, advised):
            number = result_line["line"]
            # Stored as bytes, exactly as read.
            patient_input = patient_input.decode() if isinstance(patient_input, bytes) else patient_input
            advice = advice.decode() if isinstance(advice, bytes) else advice
            check(name == f"{cohort}:{number}", f"record {id_} is named {name!r}")
            check(patient_input == cohort_lines[number - 1], f"record {id_} does not hold line {number} as read")
            check(json.loads(advice) == result_line, f"record {id_} is not the result printed for line {number}")
        expect_status(run(rapa, "audit", "--db", db, "verify"), 0, "verify after batch --audit")
        result = run(rapa, "audit", "--db", db, "replay", "2")
        expect_status(result, 0, "replay of a batch record")
        check(b"advice: unchanged" in result.stdout, f"replay of a batch record: {result.stdout!r}")

        # Killed midway: a cohort long enough to be mid-run when the kill comes.
        big = os.path.join(tmp, "big.ndjson")
        with open(big, "w") as out:
            for _ in range(20000):
                out.write(cohort_lines[0] + "\n")
        db = os.path.join(tmp, "killed.sqlite")
        writer = subprocess.Popen([rapa, "advise", "--batch", big, "--audit=" + db, "--jobs", "2"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        saved = 0
        deadline = time.monotonic() + 120
        while saved < 300 and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.05)
            if os.path.exists(db):
                try:
                    with sqlite3.connect(db, timeout=5) as connection:
                        saved = connection.execute("SELECT count(*) FROM consultations").fetchone()[0]
                except sqlite3.OperationalError:
                    pass  # the schema is still being created
        check(writer.poll() is None, "the batch ended before it could be killed: make the cohort longer")
        writer.kill()
        writer.wait()
        result = run(rapa, "audit", "--db", db, "verify")
        expect_status(result, 0, "verify after a batch was killed")
        with sqlite3.connect(db) as connection:
            names = [row[0] for row in connection.execute("SELECT patient_name FROM consultations ORDER BY id")]
        check(len(names) >= saved, f"{saved} records were seen committed, {len(names)} are left")
        check(names == [f"{big}:{n}" for n in range(1, len(names) + 1)], "the saved records are not lines 1..N in order")


def scenario_docs(rapa):
    """Runs every example of docs/audit.md in a fresh directory and checks its exit status and the
    lines of the sample output shown after it (times, hashes and counts may differ)."""
    run_doc_examples(rapa, "audit.md", ("rapa", "sqlite3"), minimum=7)


if __name__ == "__main__":
    sys.exit(main(globals()))
