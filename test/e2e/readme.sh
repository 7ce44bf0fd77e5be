#!/usr/bin/env bash
# README check: runs the shell commands of README.md, as written, with the
# AWS CLI a new user has, against a running `tributary serve`, and checks
# what they print. The commands are taken from README.md's ```sh blocks each
# run, so a README edit that breaks them breaks this test.
#
# Usage: readme.sh [TRIBUTARY_BIN]   (default: build ./cmd/tributary)
#
# - The first ```sh block starts the server and runs the test suite; this
#   script starts the server itself (in memory, with the default stream
#   state delays) and does not run that block. Every other ```sh block runs,
#   in order, in one bash with `set -euo pipefail`, from the repository's
#   root, in an environment as on a fresh machine: no AWS configuration,
#   HOME an empty directory, and `aws` on PATH being the CLI under test.
# - A block whose first line is "# AWS CLI vN only" runs only with CLI
#   major version N.
# - Port: the README says http://localhost:4567. The server listens on
#   127.0.0.1:4567 when that port is free; when it is taken, on a free port
#   P, and then every "localhost:4567" in the commands becomes
#   "localhost:P" and TRIBUTARY_ENDPOINT=http://localhost:P is set for the
#   `tributary streams` commands (whose default is 127.0.0.1:4567). Nothing
#   else in the commands is changed.
# - The CLI under test is Debian's /usr/bin/aws (v2 on Debian 12, installed
#   by scripts/test.sh). README_AWS_V1=/path/to/aws also runs everything
#   with that CLI (e.g. pip's AWS CLI v1), against a fresh server.
# - The checks below know the README's example data (EXPECT_*): change them
#   with it.
#
# Prints "ok - readme: ..." / "FAIL - readme: ..." lines and ends with
#   readme: N passed, M failed
# exiting non-zero if anything failed. README_KEEP=1 keeps the work
# directory (the extracted script, its output, the server log).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
README="$ROOT/README.md"

# What the README's commands must print.
EXPECT_DECODED='{"id":1}'          # get-records' first Data of shardId-000000000001, decoded
EXPECT_TAIL=$'customer-1\t{"id":1}\ncustomer-1\t{"id":2}\ncustomer-2\t{"id":3}' # tail, sorted
EXPECT_PUTS=2                      # put-record replies (one common, one version-specific)

PASSED=0
FAILED=0
SERVER_PID=""
WORK=""
ok() { PASSED=$((PASSED + 1)); echo "ok - readme: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - readme: $*"; }
info() { echo "# $*"; }

stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}
cleanup() {
	local rc=$?
	stop_server
	if [ -n "$WORK" ]; then
		if [ -n "${README_KEEP:-}" ]; then echo "# kept work directory $WORK"; else rm -rf "$WORK"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tributary-readme.XXXXXX")"

BIN=${1:-}
if [ -z "$BIN" ]; then
	BIN="$WORK/tributary"
	(cd "$ROOT" && go build -o "$BIN" ./cmd/tributary) || { fail "go build ./cmd/tributary"; echo "readme: $PASSED passed, $FAILED failed"; exit 1; }
fi
# shellcheck source=../lib/server.sh
. "$ROOT/test/lib/server.sh"

# ---- the README's code blocks -------------------------------------------------
awk -v dir="$WORK" '
	/^```sh[[:space:]]*$/ { n++; inblk = 1; f = sprintf("%s/block_%02d.sh", dir, n); printf "" > f; next }
	/^```[[:space:]]*$/ && inblk { inblk = 0; close(f); next }
	inblk { print >> f }
' "$README"
mapfile -t BLOCKS < <(ls "$WORK"/block_*.sh 2>/dev/null)
if [ "${#BLOCKS[@]}" -lt 2 ]; then
	fail "README.md has ${#BLOCKS[@]} \`\`\`sh blocks; expected the server's block and the AWS CLI's"
	echo "readme: $PASSED passed, $FAILED failed"
	exit 1
fi
if grep -q 'cmd/tributary serve' "${BLOCKS[0]}"; then
	ok "README's first block starts the server ($(tr '\n' ';' <"${BLOCKS[0]}" | tr -s ' '))"
else
	fail "README's first block does not start the server; this test skips it assuming it does"
fi

GO_ENV=()
while IFS= read -r line; do GO_ENV+=("$line"); done < <(cd "$ROOT" && go env GOCACHE GOMODCACHE GOPATH GOTOOLCHAIN GOPROXY GOFLAGS |
	paste -d= <(printf '%s\n' GOCACHE GOMODCACHE GOPATH GOTOOLCHAIN GOPROXY GOFLAGS) -)
GO_DIR="$(dirname "$(command -v go)")"

# run_readme CLI: a fresh server, the README's commands with CLI as `aws`,
# and the checks of what they print.
run_readme() {
	local cli=$1 tag ver major port endpoint_env=() rewrite="" b first
	tag="$(basename "$(dirname "$cli")")-$(basename "$cli")"
	local dir="$WORK/$tag" ; mkdir -p "$dir/bin" "$dir/home"
	printf '#!/bin/sh\nexec %q "$@"\n' "$cli" >"$dir/bin/aws"
	chmod +x "$dir/bin/aws"
	fresh() { env -i HOME="$dir/home" PATH="$dir/bin:$GO_DIR:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 "${GO_ENV[@]}" "${endpoint_env[@]}" "$@"; }
	ver="$(fresh aws --version 2>&1)" || { fail "$cli --version: $ver"; return; }
	major="$(sed -n 's|^aws-cli/\([0-9]*\)\..*|\1|p' <<<"$ver")"
	info "AWS CLI $cli: $ver"

	# The server: on the README's port if free, else on a free one.
	: >"$dir/server.log"
	if start_tributary "$BIN" "$dir/server.log" -listen 127.0.0.1:4567 -create-stream-delay 500ms -delete-stream-delay 500ms; then
		port=4567
	else
		stop_server
		: >"$dir/server.log"
		start_tributary "$BIN" "$dir/server.log" -create-stream-delay 500ms -delete-stream-delay 500ms \
			|| { fail "tributary serve starts (log: $(tail -n 5 "$dir/server.log" | tr '\n' ' '))"; return; }
		port="${ENDPOINT##*:}"
		rewrite="s/localhost:4567/localhost:$port/g"
		endpoint_env=("TRIBUTARY_ENDPOINT=http://localhost:$port")
		info "127.0.0.1:4567 is taken: the commands use localhost:$port instead"
	fi

	{
		echo 'set -euo pipefail'
		printf 'cd %q\n' "$ROOT"
		for b in "${BLOCKS[@]:1}"; do
			first="$(head -n 1 "$b")"
			if [[ $first =~ ^#\ AWS\ CLI\ v([0-9]+)\ only ]] && [ "${BASH_REMATCH[1]}" != "$major" ]; then
				echo "# (skipped: $first)"
				continue
			fi
			if grep -qE 'make test|scripts/test\.sh|tributary serve' "$b"; then
				echo "echo 'README block $(basename "$b") starts a server or the tests: not run here' >&2; exit 97"
				continue
			fi
			sed "${rewrite:-}" "$b"
		done
	} >"$dir/readme-commands.sh"

	local rc=0
	(cd "$ROOT" && fresh bash "$dir/readme-commands.sh") >"$dir/out" 2>"$dir/err" || rc=$?
	if [ "$rc" = 0 ]; then
		ok "README's commands run as written with AWS CLI v$major ($cli, port $port)"
	else
		fail "README's commands with AWS CLI v$major ($cli) exit $rc: $(tail -n 8 "$dir/err" | tr '\n' ' ')"
	fi
	local puts
	puts=$(grep -cE '"SequenceNumber": "[0-9]{56}"' "$dir/out" || true)
	if [ "$puts" = "$EXPECT_PUTS" ]; then
		ok "v$major: put-record printed $puts shard ids and sequence numbers"
	else
		fail "v$major: put-record printed $puts sequence numbers, want $EXPECT_PUTS"
	fi
	if grep -qxF "$EXPECT_DECODED" "$dir/out"; then
		ok "v$major: get-shard-iterator + get-records, decoded, print $EXPECT_DECODED"
	else
		fail "v$major: no line $EXPECT_DECODED from get-records; output: $(tr '\n' ' ' <"$dir/out")"
	fi
	local tail
	tail="$(grep -E $'^customer-[0-9]+\t' "$dir/out" | LC_ALL=C sort || true)"
	if [ "$tail" = "$EXPECT_TAIL" ]; then
		ok "v$major: tributary streams tail prints every record once as key<TAB>data"
	else
		fail "v$major: tributary streams tail printed $(printf %q "$tail"), want $(printf %q "$EXPECT_TAIL")"
	fi
	if grep -qE $'^shardId-[0-9]{12}\t[0-9]{56}$' "$dir/out"; then
		ok "v$major: tributary streams put prints the shard and sequence number"
	else
		fail "v$major: tributary streams put printed no SHARD<TAB>SEQUENCE line"
	fi
	if [ -n "${README_KEEP:-}" ] || [ "$FAILED" -ne 0 ]; then
		sed 's/^/#   out: /' "$dir/out"
		sed 's/^/#   err: /' "$dir/err" | tail -n 20
	fi
	stop_server
}

run_readme /usr/bin/aws
if [ -n "${README_AWS_V1:-}" ]; then
	run_readme "$README_AWS_V1"
fi

echo "readme: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
