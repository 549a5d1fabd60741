#!/usr/bin/env python3
"""`rapa audit` end to end: usage and error exits, tampering found through the command line, and
every example of docs/audit.md.

usage: audit_cli.py RAPA_EXECUTABLE cli|docs
"""
import json
import os
import sqlite3
import sys
import tempfile

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
        expect_status(run(rapa, "advise", "--audit=" + db, "--batch", "-"), 2, "--audit with --batch")
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


def scenario_docs(rapa):
    """Runs every example of docs/audit.md in a fresh directory and checks its exit status and the
    lines of the sample output shown after it (times, hashes and counts may differ)."""
    run_doc_examples(rapa, "audit.md", ("rapa", "sqlite3"), minimum=7)


if __name__ == "__main__":
    sys.exit(main(globals()))
