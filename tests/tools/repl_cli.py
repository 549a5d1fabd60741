#!/usr/bin/env python3
"""`rapa repl` through a pipe: scripted sessions and the transcripts in docs/repl.md.

usage: repl_cli.py RAPA_EXECUTABLE pipe|docs   (run from the source root)

pipe: feeds tests/tools/repl/session.txt on standard input and checks key lines of the output.
docs: every ```console block of docs/repl.md that starts with `$ rapa repl ...` is run: the lines
      after `rapa> ` are the input, and the output must be the block itself. A line `...` in the
      block stands for any number of lines (long advice, the rule-base version).
"""
import re
import subprocess
import sys


def run_repl(rapa, args, commands):
    result = subprocess.run([rapa, "repl", *args], input="".join(c + "\n" for c in commands),
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def pipe(rapa):
    with open("tests/tools/repl/session.txt", encoding="utf-8") as f:
        commands = f.read().splitlines()
    status, out, err = run_repl(rapa, [], commands)
    failures = []

    def expect(pattern, what):
        if not re.search(pattern, out, re.MULTILINE):
            failures.append(what)

    if status != 0:
        failures.append(f"exit status {status}, stderr: {err}")
    expect(r"^rapa> load examples/patients/itp_adult\.yaml\n"
           r"loaded examples/patients/itp_adult\.yaml: \d+ facts$", "the load is echoed and reported")
    expect(r"^added \d+  medication\(drug: voriconazole, status: active\)$", "the fact typed is added")
    expect(r"^  \+ warn critical  \(ddi\.voriconazole\)$",
           "setting voriconazole reports the critical warning")
    expect(r"^advice 2: warn critical  \(not graded\)$", "why names the advice")
    expect(r"^  rule ddi\.voriconazole  ", "why names the rule that gave it")
    expect(r"^  rule ddi\.voriconazole  \"Voriconazole with sirolimus\"  rules/interactions\.rules:\d+$",
           "why shows the rule with file:line")
    expect(r"^retracted \d+  medication\(drug: voriconazole", "the retraction is reported")
    expect(r"^unknown command 'advice'; did you mean 'advise'\?$", "a typo is explained")
    expect(r"^error: unknown drug 'voriconazol'; did you mean 'voriconazole'\?\n  set medication",
           "a bad fact is explained")
    expect(r"^rapa> rules ddi\.vori\nddi\.voriconazole  Voriconazole with sirolimus$",
           "the session goes on after mistakes")
    # After the retraction the advice is as it was before the fact was set.
    blocks = re.split(r"^rapa> .*\n", out, flags=re.MULTILINE)
    commands_run = re.findall(r"^rapa> (.*)$", out, re.MULTILINE)
    # The foot counts the firings since the load, which grows with every change: left out.
    advice = [re.sub(r"\nRule base .*\n$", "\n", blocks[i + 1])
              for i, command in enumerate(commands_run) if command == "advise"]
    if len(advice) != 3 or advice[0] != advice[2] or advice[0] == advice[1]:
        failures.append("advise before, with and after the voriconazole fact: before == after != with")
    for f in failures:
        print("FAILED:", f)
    if failures:
        print("--- output ---\n" + out)
    return 1 if failures else 0


def matches(expected, actual):
    """Line lists equal, where an expected `...` line matches any run of actual lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def docs(rapa):
    with open("docs/repl.md", encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"```console\n(\$ rapa repl.*?\n)```", text, re.DOTALL)
    if not blocks:
        print("FAILED: no ```console block starting with '$ rapa repl' in docs/repl.md")
        return 1
    failures = 0
    for block in blocks:
        lines = block.splitlines()
        args = lines[0].split()[3:]
        expected = lines[1:]
        commands = [l[len("rapa> "):] for l in expected if l.startswith("rapa> ")]
        status, out, err = run_repl(rapa, args, commands)
        actual = out.splitlines()
        if status != 0 or not matches(expected, actual):
            failures += 1
            print(f"FAILED: docs/repl.md block '{lines[0]}' (exit {status}) {err}")
            print("--- expected ---\n" + "\n".join(expected) + "\n--- actual ---\n" + out)
    print(f"{len(blocks)} docs/repl.md sessions run, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    rapa, scenario = sys.argv[1], sys.argv[2]
    sys.exit({"pipe": pipe, "docs": docs}[scenario](rapa))
