#!/usr/bin/env python3
"""`rapa trace` and `rapa advise --proof` end to end: the graph against docs/trace.schema.json
and its own invariants, the DOT through Graphviz, a stored record traced as it was advised (and
one stored before tracing existed), usage and error exits, and every example of docs/trace.md.

usage: trace_cli.py RAPA_EXECUTABLE schema|dot|record|errors|docs
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

import jsonschema

from cli_support import ROOT, check, expect_status, main, run, run_doc_examples

PATIENTS = [os.path.join("examples", "patients", name) for name in ("itp_adult.yaml", "itp_allergy.yaml")]
SCHEMA = json.load(open(os.path.join(ROOT, "docs", "trace.schema.json")))


def trace_json(rapa, *args):
    result = run(rapa, "trace", "--format", "json", *args, cwd=ROOT)
    expect_status(result, 0, "trace --format json " + " ".join(args))
    return json.loads(result.stdout)


def check_graph(graph, what):
    """The schema, then what a schema cannot say: ids unique, edges between nodes that exist,
    one firing behind each advice, each derived fact with the firing that concluded it, each
    advice reaching input facts and sources."""
    try:
        jsonschema.Draft202012Validator(SCHEMA).validate(graph)
    except jsonschema.ValidationError as error:
        check(False, f"{what}: not valid against docs/trace.schema.json: {error.message} at {list(error.path)}")
    nodes = {}
    for node in graph["nodes"]:
        check(node["id"] not in nodes, f"{what}: node {node['id']} twice")
        nodes[node["id"]] = node
    out = {}
    for edge in graph["edges"]:
        check(edge["from"] in nodes and edge["to"] in nodes, f"{what}: edge between missing nodes: {edge}")
        out.setdefault(edge["from"], []).append((edge["relation"], edge["to"]))
    for number in graph["advice"]:
        advice = f"advice:{number}"
        check(advice in nodes, f"{what}: advice {number} traced but not a node")
        given = [to for relation, to in out.get(advice, []) if relation == "given_by"]
        check(len(given) == 1, f"{what}: advice {number} given by {len(given)} firings")
        # Walk down: every advice rests on at least one source and, unless its rule has no
        # condition on facts, on some fact that is not derived.
        seen, stack, sources = set(), list(given), 0
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for relation, to in out.get(node, []):
                sources += relation == "cites"
                stack.append(to)
        check(sources > 0, f"{what}: advice {number} rests on no source")
    for node in nodes.values():
        if node["node"] == "fact" and node["origin"]["kind"] == "derived":
            check(any(r == "concluded_by" for r, _ in out.get(node["id"], [])),
                  f"{what}: derived fact {node['id']} without the firing that concluded it")
        if node["node"] == "source":
            check(node["level"], f"{what}: source {node['key']} without a level")
    return nodes


def scenario_schema(rapa):
    for patient in PATIENTS:
        graph = trace_json(rapa, patient)
        nodes = check_graph(graph, patient)
        advised = json.loads(run(rapa, "advise", "--format", "json", patient, cwd=ROOT).stdout)
        check(graph["advice"] == [a["number"] for a in advised["advice"]],
              f"{patient}: without N every advice is traced")
        kinds = {node["node"] for node in nodes.values()}
        check(kinds == {"advice", "firing", "fact", "source"}, f"{patient}: node kinds {kinds}")
        check(any(n["node"] == "fact" and n["origin"]["kind"] == "input" and n["origin"]["file"] == patient
                  for n in nodes.values()), f"{patient}: no fact traced to the patient file")
        # The same graph through `rapa advise --proof json`.
        proof = run(rapa, "advise", "--proof", "json", patient, cwd=ROOT)
        check(json.loads(proof.stdout) == graph, f"{patient}: advise --proof json differs from trace")
    # One advice: only what it rests on.
    one = trace_json(rapa, PATIENTS[0], "1")
    check_graph(one, "advice 1")
    check(one["advice"] == [1] and sum(n["node"] == "advice" for n in one["nodes"]) == 1, "trace of advice 1 alone")
    full = trace_json(rapa, PATIENTS[0])
    check({n["id"] for n in one["nodes"]} <= {n["id"] for n in full["nodes"]}, "advice 1's graph is part of the whole")
    # An exists condition is traced to the facts that make it hold.
    check(any(e["relation"] == "exists" for e in full["edges"]), "no exists edge in a consultation that has them")


def scenario_dot(rapa):
    dot = shutil.which("dot")
    check(dot, "Graphviz's dot is not installed (scripts/setup.sh installs graphviz)")
    with tempfile.TemporaryDirectory() as tmp:
        for patient in PATIENTS:
            result = run(rapa, "trace", "--format", "dot", patient, cwd=ROOT)
            expect_status(result, 0, f"trace --format dot {patient}")
            text = result.stdout.decode()
            check(text.count("digraph provenance {") == 1 and text.rstrip().endswith("}"), f"{patient}: not one digraph")
            check("rules/" in text and "https://doi.org/10." in text, f"{patient}: no rule location or DOI link")
            svg = os.path.join(tmp, "proof.svg")
            drawn = subprocess.run([dot, "-Tsvg", "-o", svg], input=result.stdout, capture_output=True, timeout=120)
            check(drawn.returncode == 0 and not drawn.stderr,
                  f"{patient}: Graphviz rejects the DOT: {drawn.stderr.decode(errors='replace')[:1000]}")
            check(b"<svg" in open(svg, "rb").read(), f"{patient}: no SVG drawn")
            graph = trace_json(rapa, patient)
            for node in graph["nodes"]:
                check(json.dumps(node["id"]) in text, f"{patient}: node {node['id']} not drawn")
            check(text.count(" -> ") == len(graph["edges"]), f"{patient}: edges drawn differ from the graph's")
        # A contraindication is drawn in red.
        allergy = run(rapa, "trace", "--format", "dot", PATIENTS[1], cwd=ROOT).stdout.decode()
        check("color=red" in allergy, "the critical advice of itp_allergy.yaml is not drawn in red")


def scenario_record(rapa):
    patient = os.path.abspath(os.path.join(ROOT, PATIENTS[0]))
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "audit.sqlite")
        expect_status(run(rapa, "advise", "--audit=" + db, patient, cwd=tmp), 0, "advise --audit")
        stored = trace_json(rapa, "--db", db, "--record", "1")
        live = trace_json(rapa, patient)
        check(stored == live, "a record traces differently from the same patient advised now")
        text = run(rapa, "trace", "--db", db, "--record", "1", "3", cwd=tmp)
        expect_status(text, 0, "trace --record 1 3")
        check(text.stdout.decode().startswith("record 1 (") and "\nadvice 3: " in text.stdout.decode(),
              f"trace --record text: {text.stdout[:300]!r}")
        # A record stored before tracing existed: its proofs lack firing ids, per-step citations,
        # bindings, exists facts, concluded_by and sources. It is traced as far as it goes.
        with sqlite3.connect(db) as connection:
            (advice,) = connection.execute("SELECT advice FROM consultations WHERE id = 1").fetchone()
            old = json.loads(advice)
            for item in old["advice"]:
                item["proof"].pop("sources")
                for step in item["proof"]["steps"]:
                    for key in ("firing", "cites", "bindings", "witnesses"):
                        step.pop(key)
                    step["rule"].pop("title")
                    for fact in step["facts"]:
                        fact["origin"].pop("concluded_by", None)
            connection.execute("UPDATE consultations SET advice = ? WHERE id = 1", (json.dumps(old),))
        graph = trace_json(rapa, "--db", db, "--record", "1")
        nodes = {n["id"]: n for n in graph["nodes"]}
        jsonschema.Draft202012Validator(SCHEMA).validate(graph)
        check("firing:1.1" in nodes, "an old record's steps are not named firing:A.S")
        check(all(n["level"] for n in nodes.values() if n["node"] == "source"),
              "an old record's sources lost the levels its advice citations give")
        # The edit is what `rapa audit verify` exists to find.
        expect_status(run(rapa, "audit", "--db", db, "verify"), 1, "verify after the edit")


def scenario_errors(rapa):
    patient = PATIENTS[0]
    expect_status(run(rapa, "trace", "--help", cwd=ROOT), 0, "trace --help")
    for args in ([], ["--format", "svg", patient], ["--no-such-option", patient], [patient, "x"],
                 [patient, "0"], ["--db", "a.sqlite", patient], ["--record", "0"], ["--record", "1", "--rules", "r"],
                 [patient, "--format"]):
        expect_status(run(rapa, "trace", *args, cwd=ROOT), 2, "trace " + " ".join(args))
    for args in (["advise", "--proof", "svg", patient], ["advise", "--advice", "1", patient],
                 ["advise", "--proof", "json", "--format", "json", patient],
                 ["advise", "--proof", "json", "--batch", "-"]):
        expect_status(run(rapa, *args, cwd=ROOT), 2, " ".join(args))
    result = run(rapa, "trace", patient, "99", cwd=ROOT)
    expect_status(result, 1, "trace of advice 99")
    check(b"no advice numbered 99" in result.stderr, f"advice 99: {result.stderr!r}")
    expect_status(run(rapa, "trace", "no/such/patient.yaml", cwd=ROOT), 1, "trace of a missing file")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "audit.sqlite")
        result = run(rapa, "trace", "--db", db, "--record", "1", cwd=tmp)
        expect_status(result, 1, "trace --record without a store")
        check(not os.path.exists(db), "rapa trace created an audit store")
        expect_status(run(rapa, "advise", "--audit=" + db, os.path.join(ROOT, patient), cwd=tmp), 0, "advise --audit")
        result = run(rapa, "trace", "--db", db, "--record", "2", cwd=tmp)
        expect_status(result, 1, "trace of a missing record")
        check(b"no record 2" in result.stderr, f"missing record: {result.stderr!r}")
        expect_status(run(rapa, "trace", "--db", db, "--record", "1", "99", cwd=tmp), 1, "record 1, advice 99")
        binary = os.path.join(tmp, "binary.sqlite")
        open(binary, "wb").write(bytes(range(256)) * 64)
        expect_status(run(rapa, "trace", "--db", binary, "--record", "1", cwd=tmp), 1, "a binary file as the store")
        # A record whose advice is not a consultation at all.
        with sqlite3.connect(db) as connection:
            connection.execute("UPDATE consultations SET advice = '{\"advice\": 7}' WHERE id = 1")
        result = run(rapa, "trace", "--db", db, "--record", "1", cwd=tmp)
        expect_status(result, 1, "a record whose advice is malformed")
        check(b"not a consultation" in result.stderr, f"malformed record: {result.stderr!r}")


def scenario_docs(rapa):
    run_doc_examples(rapa, "trace.md", ("rapa", "dot"), minimum=9)


if __name__ == "__main__":
    sys.exit(main(globals()))
