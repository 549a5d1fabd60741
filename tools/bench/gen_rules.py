#!/usr/bin/env python3
"""Writes a synthetic rule base of N rules in rapa's rule language, for timing `rapa check`.

The rules are checked against the bundled kb/ (its fact schema, drugs, diagnoses, lab tests and
sources, read from kb/*.yaml), and `rapa check OUT kb` reports no errors on them. They have the
shapes of the real rule base and no clinical meaning: patterns with slot constraints, joins on
?variables, `where` tests, not / exists / either-or, quantities with units (some converted, such
as /uL against x10^9/L), every action (recommend with details, warn, contraindicate, monitor,
ask, info, conclude), citations of kb source keys and grades their evidence can carry.

    gen_rules.py -n 1000 -o build/bench/synthetic/r1000 [--kb kb] [--per-file 50] [--seed 1]

Same arguments, same bytes. Python 3 standard library only.
"""

import argparse
import os
import random
import re
import sys

GRADE_OF_LEVEL = {"1": "A", "2": "B", "3": "B", "4": "C", "5": "D"}


def read_kb(kb_dir):
    """The few kb facts the generator needs, read with regular expressions (no YAML library in
    the standard library); the kb files are written one field per line or as flow maps."""

    def text(name):
        with open(os.path.join(kb_dir, name), encoding="utf-8") as f:
            return f.read()

    sources = {}
    key = None
    for line in text("sources.yaml").splitlines():
        m = re.match(r"\s*-\s*key:\s*(\S+)", line)
        if m:
            key = m.group(1).strip("\"'")
            continue
        m = re.match(r"\s*level:\s*\"?([0-9a-z]+)\"?", line)
        if m and key:
            sources[key] = m.group(1)
            key = None
    graded = {k: v for k, v in sources.items() if v[0].isdigit()}
    labels = sorted(k for k, v in sources.items() if not v[0].isdigit())

    drugs, modulation = [], {}
    current = None
    for line in text("drugs.yaml").splitlines():
        m = re.match(r"\s*-\s*id:\s*(\S+)", line)
        if m:
            current = m.group(1)
            drugs.append(current)
            continue
        m = re.match(r"\s*cyp3a4:\s*\{role:\s*(\w+),\s*strength:\s*(\w+)", line)
        if m and current:
            modulation[current] = (m.group(1), m.group(2))

    diagnoses = re.findall(r"^\s*-\s*code:\s*(\w+)", text("diagnoses.yaml"), re.M)
    labs = {}
    lab = None
    for line in text("labs.yaml").splitlines():
        m = re.match(r"\s*-\s*id:\s*(\w+)", line)
        if m:
            lab = m.group(1)
            continue
        m = re.match(r"\s*unit:\s*\"?([^\"\s]+)\"?", line)
        if m and lab:
            labs[lab] = m.group(1)
            lab = None
    for what, found in (("sources", sources), ("drugs", drugs), ("diagnoses", diagnoses), ("labs", labs)):
        if not found:
            sys.exit(f"gen_rules.py: found no {what} in {kb_dir}")
    return graded, labels, drugs, modulation, diagnoses, labs


# Thresholds in the lab's own unit, and sometimes in another unit of the same dimension, so
# that the checker's unit conversion is part of the work.
LAB_VALUES = {
    "x10^9/L": ["< {a} x10^9/L", "> {b} x10^9/L", "{a}..{b} x10^9/L", "< {c}000 /uL"],
    "g/L": ["< {b} g/L", "< {a} g/dL"],
    "ng/mL": ["< {a} ng/mL", "> {b} ng/mL", "{a}..{b} ng/mL", "> {b} ug/L"],
    "umol/L": ["> {c} umol/L", "< {b} umol/L"],
    "mL/min/1.73m2": ["< {b} mL/min/1.73m2", "{a}..{b} mL/min/1.73m2"],
    "U/L": ["> {c} U/L", "> {b} IU/L"],
    "mmol/L": ["> {a} mmol/L"],
    "g/24h": ["> {a} g/24h"],
}


def lab_constraint(rng, labs):
    lab = rng.choice(sorted(labs))
    forms = LAB_VALUES.get(labs[lab])
    if not forms:
        return f"lab(test: {lab})"
    a = rng.randint(1, 9)
    b = a + rng.randint(10, 90)
    c = b + rng.randint(1, 200)
    return f"lab(test: {lab}, value: {rng.choice(forms).format(a=a, b=b, c=c)})"


class Generator:
    def __init__(self, kb, seed):
        self.graded, self.labels, self.drugs, self.modulation, self.diagnoses, self.labs = kb
        self.rng = random.Random(seed)
        self.inhibitors = sorted(d for d, (role, _) in self.modulation.items() if role == "inhibitor")
        self.inducers = sorted(d for d, (role, _) in self.modulation.items() if role == "inducer")
        # The drug every recommendation is about; the first mTOR inhibitor of the vocabulary.
        self.mtor = "sirolimus" if "sirolimus" in self.drugs else self.drugs[0]
        self.uncited = sorted(self.graded) + self.labels  # each source cited once at least

    # --- evidence -------------------------------------------------------------------------

    def pick_sources(self, graded=True):
        rng = self.rng
        keys = []
        if self.uncited:
            keys.append(self.uncited.pop())
        pool = sorted(self.graded) if graded else self.labels
        keys += rng.sample(pool, k=min(len(pool), rng.randint(1, 2)))
        if graded and not any(k in self.graded for k in keys):
            keys.append(rng.choice(sorted(self.graded)))
        return list(dict.fromkeys(keys))  # unique, in order

    def evidence(self, graded=True):
        """`grade` and `cite` clauses the checker accepts for these sources."""
        keys = self.pick_sources(graded)
        levels = [self.graded[k] for k in keys if k in self.graded]
        lines = []
        if levels:
            best = min(GRADE_OF_LEVEL[level[0]] for level in levels)
            weaker = chr(ord(best) + 1)
            if best < "D" and self.rng.random() < 0.3:
                lines.append(f'  grade {weaker} because "small open-label studies only"')
            elif self.rng.random() < 0.1:
                lines.append(f'  grade {best} consensus')
            else:
                lines.append(f"  grade {best}")
        lines.append("  cite " + ", ".join(keys))
        return lines

    # --- rule shapes ----------------------------------------------------------------------

    def recommend(self, i):
        rng = self.rng
        dx = rng.choice(self.diagnoses)
        lab = lab_constraint(rng, self.labs)
        start = rng.randint(1, 3)
        adult = rng.random() < 0.5
        age = "patient(age: ?age) where ?age >= 18 years" if adult else "patient(age: ?age) where ?age < 18 years, ?age >= 2 years"
        when = [
            f"diagnosis(code: {dx}, status: active)",
            f"refractory(disease: {dx})",
            age,
            lab,
            f"not contraindicated(drug: {self.mtor})",
        ]
        then = [
            f"recommend {self.mtor}",
            f"  start {start}..{start + 2} mg/day, maintain 1..2 mg/day, trough {rng.randint(4, 6)}..15 ng/mL",
            f"  reassess at {rng.randint(2, 6)} months",
            f'  "Synthetic recommendation {i} for a patient aged {{?age}}."',
        ]
        return when, then, self.evidence(graded=True)

    def interaction(self, i):
        rng = self.rng
        inducer = bool(self.inducers) and (not self.inhibitors or rng.random() < 0.3)
        role = "inducer" if inducer else "inhibitor"
        strength = rng.choice(["strong", "strong | moderate", "moderate"])
        table = rng.choice(["cyp3a4", "pgp"]) if rng.random() < 0.3 else "cyp3a4"
        when = [
            f"medication(drug: {self.mtor}, status: active | planned)",
            "medication(drug: ?m, status: active | planned)",
            f"{table}(drug: ?m, role: {role}, strength: {strength})",
        ]
        severity = rng.choice(["critical", "high", "moderate", "low"])
        then = [f'warn {severity} "{{?m}} changes {self.mtor} exposure (synthetic rule {i}): check the trough."']
        return when, then, self.evidence(graded=rng.random() < 0.5)

    def classify(self, i):
        rng = self.rng
        dx = rng.choice(self.diagnoses)
        lab = lab_constraint(rng, self.labs)
        agent = rng.choice(self.drugs)
        when = [
            "diagnosis(code: ?d, status: active)",
            f"therapy(agent: {agent}, response: none | partial | relapse, months: >= {rng.randint(1, 6)} months)",
            lab,
        ]
        if rng.random() < 0.5:
            when[0] = f"diagnosis(code: ?d, status: active) where ?d != {dx}"
        then = ["conclude refractory(disease: ?d)"]
        return when, then, self.evidence(graded=True)[-1:]  # cite only: a conclusion is not advice

    def candidate(self, i):
        rng = self.rng
        when = [
            "refractory(disease: ?x)",
            "exists diagnosis(code: ?x, status: active)",
            f"not allergy(drug: {self.mtor})",
            "either { patient(age: >= 18 years) } or { patient(weight: >= 40 kg) }",
        ]
        then = [f"conclude candidate(drug: {self.mtor}, disease: ?x)"]
        return when, then, ["  cite " + ", ".join(self.pick_sources(True))]

    def advise_candidate(self, i):
        rng = self.rng
        when = [
            "candidate(drug: ?d, disease: ?x)",
            "diagnosis(code: ?x, status: active | remission)",
            "not { medication(drug: ?d, status: active) }",
        ]
        then = [f'info "{{?d}} may be considered for {{?x}} (synthetic rule {i})."']
        return when, then, self.evidence(graded=True)

    def monitor(self, i):
        rng = self.rng
        a, b = rng.sample(self.diagnoses, 2)
        trough = "sirolimus_trough" if "sirolimus_trough" in self.labs else rng.choice(sorted(self.labs))
        other = rng.choice(sorted(self.labs))
        when = [
            f"either {{ diagnosis(code: {a}) }} or {{ diagnosis(code: {b}) }}",
            f"exists medication(drug: {self.mtor}, status: active)",
        ]
        then = [
            f'monitor {trough} every {rng.randint(1, 3)} months, after 7..14 days "Trough after each dose change."',
            f'monitor {other} within {rng.randint(3, 30)} days "Baseline before treatment."',
            f'monitor response every {rng.randint(2, 6)} months "Judge the response."',
        ]
        return when, then, self.evidence(graded=True)

    def ask(self, i):
        rng = self.rng
        when = [
            "patient(sex: female)",
            "not patient(pregnant: yes | no)",
            f"medication(drug: {self.mtor}, status: planned | active)",
        ]
        then = ['ask patient.pregnant "Is the patient pregnant? Sirolimus is avoided in pregnancy."']
        return when, then, self.evidence(graded=False)

    def contraindicate(self, i):
        rng = self.rng
        lab = lab_constraint(rng, self.labs)
        when = [
            f"either {{ allergy(drug: {self.mtor}) }} or {{ infection(status: active) }} or {{ {lab} }}",
        ]
        then = [
            f'contraindicate {self.mtor} "Not while this holds (synthetic rule {i})."',
            f'conclude contraindicated(drug: {self.mtor}, reason: "synthetic rule {i}")',
        ]
        return when, then, self.evidence(graded=False)

    def numeric(self, i):
        rng = self.rng
        low = rng.randint(30, 60)
        when = [
            "patient(weight: ?w, height: ?h) where ?w >= {} kg, ?w < {} kg, ?h > 1 m".format(low, low + 80),
            f"medication(drug: {self.mtor}, dose: > {rng.randint(2, 6)} mg/day, status: active)",
            "lab(test: egfr, value: ?e) where ?e < 60 mL/min/1.73m2" if "egfr" in self.labs else "patient(sex: male)",
        ]
        if "egfr" not in self.labs:
            text = f'"High dose for weight {{?w}} and height {{?h}} (synthetic rule {i})."'
        else:
            text = f'"High dose for weight {{?w}}, height {{?h}}, eGFR {{?e}} (synthetic rule {i})."'
        then = [f"warn moderate {text}"]
        return when, then, self.evidence(graded=True)

    SHAPES = ["recommend", "interaction", "classify", "candidate", "advise_candidate", "monitor", "ask",
              "contraindicate", "numeric"]

    def rule(self, i):
        shape = self.SHAPES[i % len(self.SHAPES)]
        when, then, evidence = getattr(self, shape)(i)
        lines = [f"rule syn.{shape}.r{i:05d}", f'  title "Synthetic {shape.replace("_", " ")} rule {i}"']
        if self.rng.random() < 0.3:
            lines.append(f"  salience {self.rng.randint(-10, 30)}")
        lines.append("  when")
        lines += ["    " + c for c in when]
        lines.append("  then")
        lines += ["    " + a for a in then]
        lines += evidence
        if self.rng.random() < 0.2:
            lines.append('  rationale "Generated by tools/bench/gen_rules.py; no clinical meaning."')
        lines.append("end")
        return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rules", type=int, required=True, help="how many rules")
    parser.add_argument("-o", "--out", required=True, help="directory to write *.rules into (emptied of *.rules first)")
    parser.add_argument("--kb", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kb"),
                        help="the kb directory the rules are written against (default: the bundled kb/)")
    parser.add_argument("--per-file", type=int, default=50, help="rules per file (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.rules < 1 or args.per_file < 1:
        parser.error("--rules and --per-file must be positive")

    gen = Generator(read_kb(args.kb), args.seed)
    os.makedirs(args.out, exist_ok=True)
    for name in os.listdir(args.out):
        if name.endswith(".rules"):
            os.remove(os.path.join(args.out, name))
    header = "# Synthetic rule base written by tools/bench/gen_rules.py for benchmarks: no clinical meaning.\n\n"
    for first in range(0, args.rules, args.per_file):
        rules = [gen.rule(i) for i in range(first + 1, min(first + args.per_file, args.rules) + 1)]
        path = os.path.join(args.out, f"synthetic_{first // args.per_file + 1:03d}.rules")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(header + "\n".join(rules))


if __name__ == "__main__":
    main()
