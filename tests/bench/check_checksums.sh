#!/usr/bin/env bash
# check_checksums.sh VERIFY SHARED_BENCH R DATA_ROOT
# Generates the shared workload of R rules and 10,000 patients (seed 1, as ../shared/bench's
# results were made) unless it is there already, writes rapa's checksum file, and compares it byte
# for byte with the reference's results/checksums/R<R>_P10000.tsv.
set -euo pipefail
verify=$1 shared=$2 rules=$3 root=$4
data="$root/R${rules}_P10000"
if [[ ! -f "$data/cohort.jsonl" ]]; then
  mkdir -p "$root"
  python3 "$shared/gen.py" --seed 1 -R "$rules" -D 100 -P 10000 -F 24 -o "$data.tmp" >/dev/null
  rm -rf "$data" && mv "$data.tmp" "$data"
fi
"$verify" "$data" "$data/rapa.tsv"
if cmp "$data/rapa.tsv" "$shared/results/checksums/R${rules}_P10000.tsv"; then
  echo "R=$rules: identical to the reference"
else
  python3 "$shared/canon.py" "$shared/results/checksums/R${rules}_P10000.tsv" "$data/rapa.tsv" || true
  exit 1
fi
