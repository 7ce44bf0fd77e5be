#!/usr/bin/env bash
# The cluster fault tests (docs/reliability.md, "Cluster faults"):
# test/clusterfaults, built with the `clusterfaults` tag, so not part of
# `make test`. TestClusterKillUnderWriteLoad kills and restarts nodes of
# a 3-node cluster 20 times under write load, in two modes (restart at
# once, restart after failover: about 6 minutes each, plus 90 s for
# every restart that stalls);
# TestClusterPartition cuts one node off with network namespaces (about
# 1.5 minutes) and needs root: without it, or without `ip netns`, it
# fails; it is never skipped. The whole run is bounded by go test's
# -timeout (60 minutes). FAULTS_RUN narrows it to tests matching a
# regexp, as go test -run. Prints each test's figures at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp -t tributary-faults-cluster-XXXXXX.log)
start=$(date +%s)
status=0
nice -n 19 go test -tags clusterfaults -count=1 -timeout 60m -v -run "${FAULTS_RUN:-.}" ./test/clusterfaults 2>&1 | tee "$log" || status=$?
elapsed=$(( $(date +%s) - start ))

echo
echo "== cluster fault tests: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${elapsed}s"
grep -o 'FIGURES .*' "$log" | sed 's/^FIGURES /  /' || true
grep -E '^(--- |    --- )(PASS|FAIL|SKIP)' "$log" | sed 's/^ */  /' || true
if ! grep -qE '^--- (PASS|FAIL)' "$log"; then
  echo "  no test ran" >&2
  status=1
fi
echo "full log: $log"
exit "$status"
