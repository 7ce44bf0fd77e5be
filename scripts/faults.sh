#!/usr/bin/env bash
# The fault-injection suite (docs/reliability.md, "The fault-injection
# suite"): the scenarios of test/faults at full size, built with the
# `faults` tag. Without the tag the same tests run with a few cycles in
# the normal suite. Prints each scenario's figures at the end.
#
# The full-disk tests (TestFullDisk*) mount a tmpfs and need root.
# FAULTS_RUN narrows the run to tests matching a regexp, as go test -run.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp -t tributary-faults-XXXXXX.log)
start=$(date +%s)
status=0
# test/faults: kills under write load and during metadata operations,
# hostile requests, and the full-disk and damaged-file scenarios;
# test/durability: what a crash interrupts comes back whole.
go test -tags faults -count=1 -timeout 60m -v -run "${FAULTS_RUN:-.}" ./test/faults/... ./test/durability/... 2>&1 | tee "$log" || status=$?
elapsed=$(( $(date +%s) - start ))

echo
echo "== fault-injection suite: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, ${elapsed}s"
grep -o 'FIGURES .*' "$log" | sed 's/^FIGURES /  /' || true
grep -E '^(--- |    --- )(PASS|FAIL|SKIP)' "$log" | sed 's/^ */  /' || true
echo "full log: $log"
exit "$status"
