#!/usr/bin/env python3
"""`rapa advise` end to end: exit statuses, the JSON against docs/advice.schema.json, batch order
and error records, hostile input, and every example of docs/advise.md.

usage: advise_cli.py RAPA SCENARIO   (run from the repository root; see main() for scenarios)

The assertions are about structure, order, formats and exit codes, never about the wording of a
particular rule, so that the rule base can grow without breaking them.
"""
import json
import os
import re
import sys
import tempfile

import cli_support
from cli_support import Failure, check, expect_status, main

ROOT = os.getcwd()
SCHEMA_PATH = os.path.join(ROOT, "docs", "advice.schema.json")
EXAMPLE = "examples/patients/itp_adult.yaml"
PATIENTS = "tests/tools/patients"

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_CRITICAL = 0, 1, 2, 3


def run(rapa, *args, stdin=None):
    return cli_support.run(rapa, "advise", *args, stdin=stdin)


def validators():
    try:
        import jsonschema
    except ImportError:
        raise Failure("python3-jsonschema is needed (scripts/setup.sh installs it)")
    schema = json.load(open(SCHEMA_PATH))
    jsonschema.Draft202012Validator.check_schema(schema)
    consultation = jsonschema.Draft202012Validator(schema)
    # The error record is a definition of the same schema; its own $refs resolve within it.
    batch_error = jsonschema.Draft202012Validator(dict(schema["$defs"]["batch_error"], **{"$defs": schema["$defs"]}))
    return consultation, batch_error


def validate(validator, document, what):
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    check(not errors, f"{what} does not follow the schema: " +
          "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]))


def patient_record(i):
    """A valid cohort line: an ITP patient whose age and platelets tell the records apart."""
    return json.dumps({
        "patient": {"age": f"{20 + i} years", "sex": "female" if i % 2 else "male", "pregnant": "no",
                    "breastfeeding": "no"},
        "diagnoses": [{"code": "ITP", "status": "active"}],
        "therapies": [{"agent": "prednisone", "response": "relapse"}],
        "medications": "none",
        "labs": {"platelets": f"{10 + i} x10^9/L"},
    })


def write_temp(directory, name, data):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


# --- Scenarios -----------------------------------------------------------------------------------

def scenario_schema(rapa):
    consultation, batch_error = validators()
    for patient in (EXAMPLE, "examples/patients/itp_allergy.yaml", f"{PATIENTS}/no_medicines.yaml"):
        result = run(rapa, "--format", "json", patient)
        check(result.returncode in (EXIT_OK, EXIT_CRITICAL), f"{patient}: exit status {result.returncode}")
        document = json.loads(result.stdout)
        validate(consultation, document, patient)
        check(document["patient"] == patient, "the patient field names the file")
        check([a["number"] for a in document["advice"]] == list(range(1, len(document["advice"]) + 1)),
              f"{patient}: advice numbers are 1..N in order")
        check(document["critical"] == (result.returncode == EXIT_CRITICAL), f"{patient}: critical matches the exit")
        for advice in document["advice"]:
            check(advice["proof"]["steps"][0]["rule"]["name"] == advice["rule"]["name"],
                  "a proof starts at the advice's own rule")
    # Input facts of the example point back at their lines.
    document = json.loads(run(rapa, "--format", "json", EXAMPLE).stdout)
    lines = open(EXAMPLE).read().split("\n")
    for advice in document["advice"]:
        for step in advice["proof"]["steps"]:
            for fact in step["facts"]:
                origin = fact["origin"]
                if origin["kind"] == "input":
                    check(origin["file"] == EXAMPLE, "an input fact names the patient file")
                    check(1 <= origin["line"] <= len(lines) and lines[origin["line"] - 1].strip(),
                          f"input fact {fact['fact']} points at a line with text")
    # A bad file is an error object of the schema too.
    result = run(rapa, "--format", "json", f"{PATIENTS}/bad_units.yaml")
    expect_status(result, EXIT_ERRORS, "bad file in JSON")
    validate(batch_error, json.loads(result.stdout), "the JSON error object")


def scenario_exit_status(rapa):
    expect_status(run(rapa, EXAMPLE), EXIT_OK, "the example patient")
    expect_status(run(rapa, f"{PATIENTS}/allergy.yaml"), EXIT_CRITICAL, "a contraindicated drug")
    expect_status(run(rapa, "--format", "markdown", f"{PATIENTS}/allergy.yaml"), EXIT_CRITICAL, "markdown")
    bad = run(rapa, f"{PATIENTS}/bad_units.yaml")
    expect_status(bad, EXIT_ERRORS, "a unit of the wrong dimension")
    check(re.search(rb"bad_units\.yaml:3:\d+: error: ", bad.stderr), "the error is at file:line:col")
    check(b"^" in bad.stderr, "the error has a caret under the value")
    check(not bad.stdout, "no advice from a file with errors")
    typo = run(rapa, f"{PATIENTS}/unknown_drug.yaml")
    expect_status(typo, EXIT_ERRORS, "an unknown drug")
    check(b"did you mean 'voriconazole'" in typo.stderr, "an unknown drug gets a suggestion")
    expect_status(run(rapa, f"{PATIENTS}/malformed.yaml"), EXIT_ERRORS, "malformed YAML")
    expect_status(run(rapa, "no/such/patient.yaml"), EXIT_ERRORS, "a missing file")
    expect_status(run(rapa, "--rules", f"{PATIENTS}/broken.rules", "--rules", "kb", EXAMPLE), EXIT_ERRORS,
                  "a rule base with errors")
    for usage in ([], ["--format", "yaml", EXAMPLE], ["--no-such-option", EXAMPLE], [EXAMPLE, EXAMPLE],
                  ["--jobs", "2", EXAMPLE], ["--batch", "x.ndjson", "--format", "text"], ["--format"]):
        expect_status(run(rapa, *usage), EXIT_USAGE, f"usage error {usage}")
    help_text = run(rapa, "--help")
    expect_status(help_text, EXIT_OK, "--help")
    check(b"3  a contraindication" in help_text.stdout, "--help documents exit status 3")


def scenario_text(rapa):
    plain = run(rapa, EXAMPLE)
    check(b"\033[" not in plain.stdout, "no colour when standard output is not a terminal")
    coloured = run(rapa, "--color", EXAMPLE)
    check(b"\033[" in coloured.stdout, "--color colours")
    check(re.sub(rb"\033\[[0-9;]*m", b"", coloured.stdout) == plain.stdout, "colour changes nothing but colour")
    for args in ([EXAMPLE], ["--doi", EXAMPLE], [f"{PATIENTS}/no_medicines.yaml"], [f"{PATIENTS}/allergy.yaml"]):
        text = run(rapa, *args).stdout.decode()
        for number, line in enumerate(text.split("\n"), 1):
            check(len(line) <= 80, f"{args}: line {number} has {len(line)} columns: {line!r}")
    text = run(rapa, "--doi", EXAMPLE).stdout.decode()
    check("https://doi.org/" in text, "--doi shows DOIs")
    check("https://doi.org/" not in plain.stdout.decode(), "without --doi, keys and levels only")


def scenario_batch(rapa):
    consultation, batch_error = validators()
    with tempfile.TemporaryDirectory() as tmp:
        lines = [patient_record(i) for i in range(50)]
        bad = 17  # 1-based line of the malformed record
        lines[bad - 1] = '{"patient": {"age": "40 kg"}, "medications": [{"drug": "vorikonazole", "status": "active"}]}'
        cohort = write_temp(tmp, "cohort.ndjson", ("\n".join(lines) + "\n").encode())
        parallel = run(rapa, "--batch", cohort, "--jobs", "4")
        expect_status(parallel, EXIT_ERRORS, "a cohort with one malformed record")
        records = [json.loads(line) for line in parallel.stdout.decode().splitlines()]
        check([r["line"] for r in records] == list(range(1, 51)), "one result a line, in input order")
        for record in records:
            if record["line"] == bad:
                validate(batch_error, record, "the error record")
                diagnostics = record["error"]["diagnostics"]
                check(diagnostics and all(d["line"] == bad and d["file"] == cohort for d in diagnostics),
                      "the error record's diagnostics point at the cohort's line")
            else:
                validate(consultation, record, f"record {record['line']}")
                check("error" not in record, f"record {record['line']} succeeded")
        # The same answer whatever the number of threads, byte for byte.
        serial = run(rapa, "--batch", cohort, "--jobs", "1")
        check(serial.stdout == parallel.stdout, "--jobs 1 and --jobs 4 give the same output")
        check(not re.search(rb"\r|\033", parallel.stderr), "no progress bar when standard error is not a terminal")

        # Exit status 3 when any patient had a contraindication, 0 when none had.
        allergic = json.loads(patient_record(3))
        allergic["allergies"] = ["sirolimus"]
        clean = write_temp(tmp, "clean.ndjson", "\n".join(patient_record(i) for i in range(5)).encode())
        critical = write_temp(tmp, "critical.ndjson",
                              "\n".join([patient_record(0), json.dumps(allergic), ""]).encode())
        expect_status(run(rapa, "--batch", critical), EXIT_CRITICAL, "a cohort with a contraindication")
        result = run(rapa, "--batch", clean)
        any_critical = any(json.loads(line)["critical"] for line in result.stdout.splitlines())
        expect_status(result, EXIT_CRITICAL if any_critical else EXIT_OK, "a cohort without errors")
        # Standard input, blank lines skipped.
        piped = run(rapa, "--batch", "-", stdin=("\n" + patient_record(1) + "\n\n" + patient_record(2) + "\n").encode())
        records = [json.loads(line) for line in piped.stdout.splitlines()]
        check([r["line"] for r in records] == [2, 4], "blank lines are skipped, lines keep their numbers")
        check(all(r["patient"] == "<stdin>" for r in records), "standard input is named <stdin>")


def scenario_hostile(rapa):
    consultation, batch_error = validators()
    with tempfile.TemporaryDirectory() as tmp:
        binary = write_temp(tmp, "binary.yaml", b"patient:\n  age: 3\x00\x01\x02\xff years\n" + bytes(range(256)) * 64)
        result = run(rapa, binary)
        expect_status(result, EXIT_ERRORS, "a binary file")
        check(b"NUL byte" in result.stderr and b"binary.yaml:2:" in result.stderr, "a binary file is refused at its line")
        huge = write_temp(tmp, "huge.yaml", b"patient:\n  age: 40 years\n" + b"# padding\n" * (900 * 1024))
        check(os.path.getsize(huge) > 8 * 1024 * 1024, "the huge file is over 8 MiB")
        result = run(rapa, huge)
        expect_status(result, EXIT_ERRORS, "a file over 8 MiB")
        check(b"larger than the limit" in result.stderr, "a huge file is refused as too large")
        invalid = write_temp(tmp, "latin1.yaml", "patient:\n  age: 40 years\n  sex: m\xe4le\n".encode("latin-1"))
        expect_status(run(rapa, invalid), EXIT_ERRORS, "invalid UTF-8")

        # The same inside a batch: each bad line an error record, the good ones advised.
        good = patient_record(0).encode()
        cohort = write_temp(tmp, "hostile.ndjson", b"\n".join([
            good,
            b'{"patient": {"age": "40 years"}, "x": "\x00\x01"}',
            b"\xff\xfe not utf-8",
            b'{"patient": [unclosed',
            b"[1, 2, 3]",
            b'"just a string"',
            b"{" * 10000,
            b'{"patient": {"age": "' + b"9" * (9 * 1024 * 1024) + b' years"}}',
            good,
        ]) + b"\n")
        result = run(rapa, "--batch", cohort, "--jobs", "3")
        expect_status(result, EXIT_ERRORS, "a hostile cohort")
        records = [json.loads(line) for line in result.stdout.splitlines()]
        check([r["line"] for r in records] == list(range(1, 10)), "every line answered, in order")
        for record in records:
            if record["line"] in (1, 9):
                validate(consultation, record, "a good record among bad ones")
            else:
                validate(batch_error, record, f"error record {record['line']}")
        check(records[7]["error"]["diagnostics"][0]["id"] == "file_too_large", "a line over 8 MiB is too large")
        # A whole binary file as a cohort.
        result = run(rapa, "--batch", binary)
        expect_status(result, EXIT_ERRORS, "a binary cohort")
        for line in result.stdout.splitlines():
            json.loads(line)


def scenario_docs(rapa):
    """Runs every `rapa advise` example of docs/advise.md (in a fresh directory: one writes an
    audit store) and checks its exit status and the shape of the sample output shown after it."""
    schema = json.load(open(SCHEMA_PATH))
    cli_support.run_doc_examples(rapa, "advise.md", ("rapa",), minimum=8, samples={
        "text": check_sample,
        "json": lambda body, result: check_json_sample(json.loads(body), schema),
    })


def check_sample(sample, result):
    """The sample's first line is the output's (or its standard error's, for errors); its other
    unindented lines are section headings or the foot, and appear in the output in that order."""
    shown = (result.stdout or result.stderr).decode().split("\n")
    lines = sample.rstrip("\n").split("\n")
    check(lines[0] == shown[0], f"docs sample starts {lines[0]!r}, the program prints {shown[0]!r}")
    position = 0
    for line in lines[1:]:
        if not line or line.startswith(" ") or line == "...":
            continue
        # Counts and the version change with the rules; everything else must be as shown.
        pattern = "".join("[0-9a-f]{12}" if re.fullmatch(r"[0-9a-f]{12}", part) else
                          r"\d+" if part.isdigit() else re.escape(part)
                          for part in re.split(r"(\b[0-9a-f]{12}\b|\d+)", line) if part)
        found = next((i for i in range(position, len(shown)) if re.fullmatch(pattern, shown[i])), None)
        check(found is not None, f"docs sample line {line!r} is not in the output (in order)")
        position = found + 1


def check_json_sample(sample, schema):
    """An abridged sample may leave fields out, but names none the schema does not have."""
    def keys(document, definition):
        properties = definition.get("properties", {})
        for key, value in document.items():
            check(key in properties, f"docs JSON sample has a field the schema lacks: {key}")
    keys(sample, schema)
    for advice in sample.get("advice", []):
        keys(advice, schema["$defs"]["advice"])
    for needs in sample.get("needs_data", []):
        keys(needs, schema["$defs"]["needs_data"])


if __name__ == "__main__":
    sys.exit(main(globals()))
