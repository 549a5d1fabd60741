#!/usr/bin/env python3
"""`rapa audit` end to end: usage and error exits, tampering found through the command line, and
every example of docs/audit.md.

usage: audit_cli.py RAPA_EXECUTABLE cli|docs
"""
import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(rapa, *args, cwd=None, env=None):
    return subprocess.run([rapa, *args], capture_output=True, cwd=cwd, env=env, timeout=120)


def expect_status(result, status, what):
    check(result.returncode == status,
          f"{what}: exit status {result.returncode}, expected {status}\n"
          f"stdout: {result.stdout.decode(errors='replace')[:2000]}\n"
          f"stderr: {result.stderr.decode(errors='replace')[:2000]}")


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
    text = open(os.path.join(ROOT, "docs", "audit.md")).read()
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, re.S)
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(rapa)) + os.pathsep + os.environ["PATH"])
    env.pop("RAPA_AUDIT_DB", None)
    ran = 0
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(os.path.join(ROOT, "examples"), os.path.join(tmp, "examples"))
        last = None
        for language, body in blocks:
            if language == "sh":
                for line in body.strip().split("\n"):
                    command, _, comment = line.rpartition("#")
                    wanted = re.search(r"exit status (\d)", comment)
                    check(wanted, f"docs example gives no exit status: {line}")
                    words = shlex.split(command)
                    check(words[0] in ("rapa", "sqlite3"),
                          f"docs example runs neither rapa nor sqlite3: {line}")
                    last = subprocess.run(words, capture_output=True, cwd=tmp, env=env, timeout=120)
                    expect_status(last, int(wanted.group(1)), f"docs example {command.strip()}")
                    ran += 1
            elif language == "text" and last is not None:
                check_sample(body, last)
                last = None
    check(ran >= 7, f"only {ran} examples found in docs/audit.md")


def check_sample(sample, result):
    """Every line of the sample but '...' appears in the output in that order, with times, hex
    hashes and numbers free to differ."""
    shown = (result.stdout or result.stderr).decode().split("\n")
    position = 0
    for line in sample.rstrip("\n").split("\n"):
        if line == "...":
            continue
        pattern = ""
        for part in re.split(r"(\d{4}-\d\d-\d\dT[\d:.]+Z|[0-9a-f]{12,}\.*|\d+)", line):
            if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", part):
                pattern += r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
            elif re.fullmatch(r"[0-9a-f]{12,}\.*", part):
                pattern += "[0-9a-f]{12,}"
            elif part.isdigit():
                pattern += r"\d+"
            else:
                pattern += re.escape(part)
        found = next((i for i in range(position, len(shown)) if re.fullmatch(pattern, shown[i])), None)
        check(found is not None,
              f"docs sample line {line!r} is not in the output (in order):\n" + "\n".join(shown))
        position = found + 1


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rapa, name = sys.argv[1], sys.argv[2]
    scenario = globals().get("scenario_" + name)
    if scenario is None:
        print(f"audit_cli.py: unknown scenario '{name}'", file=sys.stderr)
        return 2
    try:
        scenario(rapa)
    except Failure as failure:
        print(f"FAIL audit_{name}: {failure}", file=sys.stderr)
        return 1
    print(f"ok audit_{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
