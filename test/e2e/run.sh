#!/usr/bin/env bash
# End-to-end test: real AWS clients, unchanged, against a real tributary.
#
# Builds cmd/tributary, starts `tributary serve` in memory on a free
# loopback port, then
#   Part A: drives it with the AWS CLI (Debian's /usr/bin/aws): create a
#           4-shard stream, put 1,000 records (put-records and put-record),
#           read every shard back from TRIM_HORIZON, check exactly-once,
#           order and md5 routing, check error names, delete the stream;
#   Part B: runs boto3_roundtrip.py (Debian's /usr/bin/python3 + boto3),
#           which does the same through boto3.
#   Part C: runs readme.sh: the README's commands, as written, with
#           /usr/bin/aws against a server of its own (see readme.sh).
# Prints one line per check ("ok - ..." / "FAIL - ...") and ends with
#   e2e: N passed, M failed
# exiting non-zero if anything failed.
#
# E2E_KEEP=1 keeps the work directory (requests, replies, server log).
#
# Needs: go, curl, and the Debian packages awscli and python3-boto3
# (installed by the README's test command, not by this script).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
AWS_BIN=/usr/bin/aws
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1  # keep __pycache__ out of the tree

PASSED=0
FAILED=0
SERVER_PID=""
WORK=""

ok() { PASSED=$((PASSED + 1)); echo "ok - cli: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - cli: $*"; }
check() { # check "<what>" <command...>: passes if the command succeeds
	local what=$1; shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
info() { echo "# $*"; }

FINISHED=""
finish() {
	FINISHED=1
	echo "e2e: $PASSED passed, $FAILED failed"
	if [ "$FAILED" -ne 0 ]; then exit 1; fi
	exit 0
}
# fatal: a failure the rest of the run cannot go on from.
fatal() {
	fail "$*"
	if [ -n "$WORK" ] && [ -s "$WORK/server.log" ]; then
		echo "# server log (last 40 lines):"
		tail -n 40 "$WORK/server.log" | sed 's/^/#   /'
	fi
	finish
}

cleanup() {
	local rc=$?
	if [ -z "$FINISHED" ]; then
		# set -e stopped the script somewhere unexpected: still report.
		FAILED=$((FAILED + 1))
		echo "FAIL - run.sh stopped unexpectedly (exit status $rc)"
		echo "e2e: $PASSED passed, $FAILED failed"
		[ "$rc" -ne 0 ] || rc=1
	fi
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "$WORK" ]; then
		if [ -n "${E2E_KEEP:-}" ]; then echo "# kept work directory $WORK"; else rm -rf "$WORK"; fi
	fi
	exit "$rc"
}

# ---- prerequisites ---------------------------------------------------------
[ -x "$AWS_BIN" ] || { echo "e2e: $AWS_BIN not found: install the Debian package awscli (apt-get install -y awscli)" >&2; exit 2; }
[ -x "$PY" ] || { echo "e2e: $PY not found: install the Debian package python3" >&2; exit 2; }
"$PY" -c 'import boto3' 2>/dev/null || { echo "e2e: boto3 is not importable by $PY: install the Debian package python3-boto3 (apt-get install -y python3-boto3)" >&2; exit 2; }
command -v go >/dev/null || { echo "e2e: go not found on PATH" >&2; exit 2; }
command -v curl >/dev/null || { echo "e2e: curl not found on PATH" >&2; exit 2; }

trap cleanup EXIT
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tributary-e2e.XXXXXX")"
START=$SECONDS

# ---- build and start the server --------------------------------------------
info "building tributary"
(cd "$ROOT" && go build -o "$WORK/tributary" ./cmd/tributary) || fatal "go build ./cmd/tributary"

# shellcheck source=../lib/server.sh
. "$ROOT/test/lib/server.sh"
start_tributary "$WORK/tributary" "$WORK/server.log" || fatal "tributary serve answers on a loopback port"
info "server up at $ENDPOINT (pid $SERVER_PID)"

# ---- client environment ------------------------------------------------------
# Dummy credentials and region, no user config, no pager, no retries (so
# every error the server returns is seen).
touch "$WORK/aws-config" "$WORK/aws-credentials"
export AWS_ACCESS_KEY_ID=AKIAE2ETESTKEY000000
export AWS_SECRET_ACCESS_KEY=e2e-dummy-secret
export AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1
export AWS_PAGER=""
export AWS_CONFIG_FILE="$WORK/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
export AWS_EC2_METADATA_DISABLED=true
export AWS_RETRY_MODE=standard
export AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL 2>/dev/null || true

kin() { "$AWS_BIN" --endpoint-url "$ENDPOINT" --output json kinesis "$@"; }

# bg <tag> <kinesis args...>: run the CLI in the background, leaving
# $WORK/<tag>.out, .err and .rc (exit status); its pid is added to BG.
BG=()
bg() {
	local tag=$1; shift
	( rc=0; kin "$@" >"$WORK/$tag.out" 2>"$WORK/$tag.err" || rc=$?; echo "$rc" >"$WORK/$tag.rc" ) &
	BG+=($!)
}
# wait_bg: wait for the jobs started by bg (not for the server).
wait_bg() {
	local p
	for p in "${BG[@]}"; do wait "$p" || true; done
	BG=()
}
# expect_error <tag> <ErrorName> "<what>": the bg call <tag> must have exited
# 254 (the service returned an error) and named the error on stderr.
expect_error() {
	local tag=$1 name=$2 what=$3 rc
	rc="$(cat "$WORK/$tag.rc" 2>/dev/null || echo missing)"
	if [ "$rc" = 254 ] && grep -q "($name)" "$WORK/$tag.err"; then
		ok "$what -> $name"
	else
		fail "$what -> $name: exit status $rc, stdout: $(tr '\n' ' ' <"$WORK/$tag.out"), stderr: $(tr '\n' ' ' <"$WORK/$tag.err")"
	fi
}

# ============================================================================
# Part A: AWS CLI
# ============================================================================
STREAM="e2e-cli-$$"
info "Part A: AWS CLI (Debian awscli $(dpkg-query -W -f='${Version}' awscli 2>/dev/null || echo '?'))"

kin create-stream --stream-name "$STREAM" --shard-count 4 >"$WORK/create.out" 2>"$WORK/create.err" \
	|| fatal "create-stream $STREAM with 4 shards: $(cat "$WORK/create.err")"
ok "create-stream $STREAM with 4 shards"

status="" open_shards=""
for _ in $(seq 1 50); do
	read -r status open_shards < <(kin describe-stream-summary --stream-name "$STREAM" \
		--query 'StreamDescriptionSummary.[StreamStatus,OpenShardCount]' --output text 2>"$WORK/dss.err") \
		|| fatal "describe-stream-summary $STREAM: $(cat "$WORK/dss.err")"
	[ "$status" = ACTIVE ] && break
	sleep 0.2
done
[ "$status" = ACTIVE ] || fatal "stream becomes ACTIVE (last status: $status)"
ok "stream becomes ACTIVE"
check "describe-stream-summary reports OpenShardCount 4 (got $open_shards)" [ "$open_shards" = 4 ]

# Error paths, concurrently.
bg e_missing describe-stream-summary --stream-name "e2e-no-such-stream-$$"
bg e_exists create-stream --stream-name "$STREAM" --shard-count 1
wait_bg
expect_error e_missing ResourceNotFoundException "describe-stream-summary of a missing stream"
expect_error e_exists ResourceInUseException "create-stream of an existing stream"

# ---- put 1,000 records ------------------------------------------------------
"$PY" "$HERE/cli_check.py" gen "$WORK"
info "putting 1000 records: put-records x2 (500 + 498), put-record x2"
for b in 1 2; do
	kin put-records --stream-name "$STREAM" --records "file://$WORK/batch_$b.json" \
		>"$WORK/putrecords_$b.json" 2>"$WORK/put.err" \
		|| fatal "put-records batch $b: $(cat "$WORK/put.err")"
done
# The single puts are all to different partition keys, so they may run
# concurrently; each key's earlier records were acknowledged above.
singles=()
while IFS=$'\t' read -r idx pk data; do
	bg "putrecord_$idx" put-record --stream-name "$STREAM" --partition-key "$pk" --data "$data" \
		--cli-binary-format raw-in-base64-out
	singles+=("$idx")
done <"$WORK/singles.tsv"
wait_bg
for idx in "${singles[@]}"; do
	[ "$(cat "$WORK/putrecord_$idx.rc")" = 0 ] \
		|| fatal "put-record of record $idx: $(cat "$WORK/putrecord_$idx.err")"
	mv "$WORK/putrecord_$idx.out" "$WORK/putrecord_$idx.json"
done
ok "put-records and put-record calls succeed"

bg list_streams list-streams --query StreamNames --output text
kin list-shards --stream-name "$STREAM" >"$WORK/shards.json" 2>"$WORK/ls.err" \
	|| fatal "list-shards: $(cat "$WORK/ls.err")"
wait_bg
listed() { tr -s '\t ' '\n\n' <<<"$1" | grep -qxF -- "$STREAM"; }
check "list-streams shows $STREAM" listed "$(cat "$WORK/list_streams.out")"
mapfile -t SHARDS < <("$PY" -c 'import json,sys; [print(s["ShardId"]) for s in json.load(open(sys.argv[1]))["Shards"]]' "$WORK/shards.json")
info "shards: ${SHARDS[*]}"

# ---- read every shard back ---------------------------------------------------
# TRIM_HORIZON, then get-records (at most 200 per call, so the busier shards
# take several pages) chaining NextShardIterator until a page is empty with
# MillisBehindLatest 0. The four shards are read concurrently.
read_shard() {
	local sid=$1 it n=0 cnt millis next
	it="$(kin get-shard-iterator --stream-name "$STREAM" --shard-id "$sid" \
		--shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)" || return 1
	while :; do
		[ "$n" -lt 40 ] || { echo "shard $sid: not caught up after $n pages" >&2; return 1; }
		kin get-records --shard-iterator "$it" --limit 200 >"$WORK/read_${sid}_$(printf %03d "$n").json" || return 1
		read -r cnt millis next < <("$PY" "$HERE/cli_check.py" page "$WORK/read_${sid}_$(printf %03d "$n").json")
		n=$((n + 1))
		if [ "$cnt" = 0 ] && [ "$millis" = 0 ]; then break; fi
		if [ "$next" = NONE ]; then echo "shard $sid: no NextShardIterator on an open shard" >&2; return 1; fi
		it=$next
	done
	echo "$n" >"$WORK/done_$sid"
}
pids=()
for sid in "${SHARDS[@]}"; do
	read_shard "$sid" 2>"$WORK/read_$sid.err" &
	pids+=($!)
done
for i in "${!pids[@]}"; do
	if wait "${pids[$i]}"; then
		info "read ${SHARDS[$i]} in $(cat "$WORK/done_${SHARDS[$i]}") get-records pages"
	else
		fail "read shard ${SHARDS[$i]} to the end: $(tr '\n' ' ' <"$WORK/read_${SHARDS[$i]}.err")"
	fi
done

# ---- verify what came back ---------------------------------------------------
"$PY" "$HERE/cli_check.py" verify "$WORK" >"$WORK/verify.out" 2>&1 || true
sed '/^cli-verify: /d' "$WORK/verify.out"
vp=$(grep -c '^ok - ' "$WORK/verify.out" || true)
vf=$(grep -c '^FAIL - ' "$WORK/verify.out" || true)
PASSED=$((PASSED + vp)); FAILED=$((FAILED + vf))
if ! grep -q '^cli-verify: ' "$WORK/verify.out"; then fail "cli_check.py verify ran to the end"; fi

# ---- delete ----------------------------------------------------------------
if kin delete-stream --stream-name "$STREAM" >/dev/null 2>"$WORK/del.err"; then
	ok "delete-stream $STREAM"
else
	fail "delete-stream $STREAM: $(tr '\n' ' ' <"$WORK/del.err")"
fi
gone=""
for _ in $(seq 1 20); do
	names="$(kin list-streams --query StreamNames --output text 2>&1)" || { sleep 0.25; continue; }
	if ! listed "$names"; then gone=1; break; fi
	sleep 0.25
done
check "list-streams no longer shows $STREAM" [ -n "$gone" ]
info "Part A took $((SECONDS - START)) s"

# ============================================================================
# Part B: boto3
# ============================================================================
info "Part B: boto3"
B=$SECONDS
rc=0
"$PY" "$HERE/boto3_roundtrip.py" "$ENDPOINT" >"$WORK/boto3.out" 2>&1 || rc=$?
sed '/^boto3: [0-9]* passed/d' "$WORK/boto3.out"
bp=$(grep -c '^ok - ' "$WORK/boto3.out" || true)
bf=$(grep -c '^FAIL - ' "$WORK/boto3.out" || true)
PASSED=$((PASSED + bp)); FAILED=$((FAILED + bf))
if ! grep -q '^boto3: [0-9]* passed' "$WORK/boto3.out" || { [ "$rc" -ne 0 ] && [ "$bf" -eq 0 ]; }; then
	fail "boto3_roundtrip.py ran to the end (exit status $rc)"
fi
info "Part B took $((SECONDS - B)) s"

# ============================================================================
# Part C: the README's commands
# ============================================================================
info "Part C: the README's commands (readme.sh)"
C=$SECONDS
rc=0
bash "$HERE/readme.sh" "$WORK/tributary" >"$WORK/readme.out" 2>&1 || rc=$?
sed '/^readme: [0-9]* passed/d' "$WORK/readme.out"
rp=$(grep -c '^ok - ' "$WORK/readme.out" || true)
rf=$(grep -c '^FAIL - ' "$WORK/readme.out" || true)
PASSED=$((PASSED + rp)); FAILED=$((FAILED + rf))
if ! grep -q '^readme: [0-9]* passed' "$WORK/readme.out" || { [ "$rc" -ne 0 ] && [ "$rf" -eq 0 ]; }; then
	fail "readme.sh ran to the end (exit status $rc)"
fi
info "Part C took $((SECONDS - C)) s; total $((SECONDS - START)) s"
check "tributary serve is still running after every part" kill -0 "$SERVER_PID"

if [ "$FAILED" -ne 0 ] && [ -s "$WORK/server.log" ]; then
	echo "# server log (last 40 lines):"
	tail -n 40 "$WORK/server.log" | sed 's/^/#   /'
fi
finish
