#!/usr/bin/env bash
# Installs what building and testing rapa needs on Debian 12. Idempotent: when every package is
# already installed it does nothing (no apt-get at all), so running it again is instant.
# Runs as root, or re-executes itself through sudo.
#
#   scripts/setup.sh              the build, the tests, the sanitizer and fuzz presets
#   scripts/setup.sh --bench      also Google Benchmark and the CLIPS yardstick (clips, valgrind)
set -euo pipefail

packages=(
  build-essential cmake ninja-build git python3
  python3-jsonschema         # tests validate `rapa advise --format json` against docs/advice.schema.json
  libboost-dev libyaml-cpp-dev libfmt-dev nlohmann-json3-dev catch2
  libsqlite3-dev sqlite3     # the audit store; docs/audit.md tampers with it in the sqlite3 shell
  libedit-dev pkg-config     # rapa repl: line editing, history and completion (BSD licensed)
  graphviz                   # tests draw `rapa trace --format dot` output with dot (docs/trace.md)
  clang libclang-rt-14-dev   # the 'fuzz' preset: clang++ and libFuzzer
)

for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(libbenchmark-dev clips libclips-dev valgrind) ;;
    -h|--help) sed -n '2,7s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

# One dpkg query for all of them; a package counts only in the "installed" state (dpkg -s also
# knows removed-but-configured ones).
declare -A installed=()
while read -r name state; do
  [[ "$state" == installed ]] && installed["${name%%:*}"]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null || true)
missing=()
for package in "${packages[@]}"; do
  [[ -n "${installed[$package]:-}" ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "setup.sh: must run as root to install: ${missing[*]} (and sudo is not available)" >&2
    exit 1
  fi
  exec sudo -- "$0" "$@"
fi

if [[ ! -r /etc/debian_version ]]; then
  echo "setup.sh: this script is for Debian 12; install by hand: ${missing[*]}" >&2
  exit 1
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet on success; the whole apt log on failure.
if ! apt-get update >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup.sh: apt-get update failed" >&2
  exit 1
fi
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup.sh: apt-get install failed" >&2
  exit 1
fi
echo "setup.sh: done"
