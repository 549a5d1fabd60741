"""What the end-to-end tests of the rapa command share: failing with a message, running rapa,
checking exit statuses, running the shell examples of a page of docs/ and matching their sample
output, and the scenario dispatch of a test script.

A test script defines scenario_NAME(rapa) functions and ends with `sys.exit(main(globals()))`;
CTest runs `script.py RAPA_EXECUTABLE NAME` from the repository root.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(rapa, *args, stdin=None, cwd=None, env=None, timeout=600):
    """`rapa ARGS...`; a death by signal fails the test: a crash is never an acceptable answer."""
    result = subprocess.run([rapa, *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=timeout)
    check(result.returncode >= 0, f"rapa {' '.join(args)} died of signal {-result.returncode}")
    return result


def expect_status(result, status, what):
    check(result.returncode == status,
          f"{what}: exit status {result.returncode}, expected {status}\n"
          f"stdout: {result.stdout.decode(errors='replace')[:2000]}\n"
          f"stderr: {result.stderr.decode(errors='replace')[:2000]}")


# Parts of a sample line that may differ from run to run: times, hex hashes, numbers.
_VARIABLE = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.]+Z|\b[0-9a-f]{12,}\b\.*|\d+)")


def sample_line_pattern(line):
    pattern = ""
    for part in _VARIABLE.split(line):
        if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", part):
            pattern += r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
        elif re.fullmatch(r"[0-9a-f]{12,}\.*", part):
            pattern += "[0-9a-f]{12,}"
        elif part.isdigit():
            pattern += r"\d+"
        else:
            pattern += re.escape(part)
    return pattern


def check_sample(sample, result):
    """Every line of the sample but '...' appears in the output (standard output, or standard
    error when there is none) in that order, with times, hashes and numbers free to differ."""
    shown = (result.stdout or result.stderr).decode().split("\n")
    position = 0
    for line in sample.rstrip("\n").split("\n"):
        if line == "...":
            continue
        pattern = sample_line_pattern(line)
        found = next((i for i in range(position, len(shown)) if re.fullmatch(pattern, shown[i])), None)
        check(found is not None,
              f"docs sample line {line!r} is not in the output (in order):\n" + "\n".join(shown))
        position = found + 1


def run_doc_examples(rapa, page, programs, minimum, samples=None):
    """Runs every line of the ```sh blocks of docs/PAGE in a fresh directory (with examples/,
    docs/ and tests/ linked in, and rapa first on the PATH), so that what they write stays out of
    the source tree. Each line ends with `# exit status N`; a pipe or redirection goes through the
    shell. A block after an example is its sample output, checked by `samples[language](body,
    result)` (default: ```text blocks by check_sample). Returns the results, in order."""
    samples = samples or {"text": check_sample}
    text = open(os.path.join(ROOT, "docs", page)).read()
    blocks = re.findall(r"```(\w*)\n(.*?)```", text, re.S)
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(rapa)) + os.pathsep + os.environ["PATH"])
    env.pop("RAPA_AUDIT_DB", None)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("examples", "docs", "tests"):
            os.symlink(os.path.join(ROOT, name), os.path.join(tmp, name))
        last = None
        for language, body in blocks:
            if language == "sh":
                for line in body.strip().split("\n"):
                    command, _, comment = line.rpartition("#")
                    wanted = re.search(r"exit status (\d)", comment)
                    check(wanted, f"docs/{page} example gives no exit status: {line}")
                    words = shlex.split(command)
                    check(words and words[0] in programs,
                          f"docs/{page} example runs none of {', '.join(programs)}: {line}")
                    shell = "|" in words or ">" in words
                    last = subprocess.run(command if shell else words, shell=shell, capture_output=True, cwd=tmp,
                                          env=env, timeout=300)
                    expect_status(last, int(wanted.group(1)), f"docs/{page} example {command.strip()}")
                    results.append((command.strip(), last))
            elif language in samples and last is not None:
                samples[language](body, last)
                last = None
    check(len(results) >= minimum, f"only {len(results)} examples found in docs/{page}")
    return results


def main(scenarios):
    """Runs the scenario named on the command line from a script's globals()."""
    script = os.path.basename(sys.argv[0])
    if len(sys.argv) != 3:
        print(f"usage: {script} RAPA_EXECUTABLE SCENARIO", file=sys.stderr)
        return 2
    rapa, name = sys.argv[1], sys.argv[2]
    scenario = scenarios.get("scenario_" + name)
    if scenario is None:
        print(f"{script}: unknown scenario '{name}'", file=sys.stderr)
        return 2
    prefix = script.replace("_cli.py", "")
    try:
        scenario(rapa)
    except Failure as failure:
        print(f"FAIL {prefix}_{name}: {failure}", file=sys.stderr)
        return 1
    print(f"ok {prefix}_{name}")
    return 0
