#!/usr/bin/env bash
# JS SDK v3 test: the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis),
# which speaks cleartext HTTP/2, against a real tributary.
#
# Installs the pinned npm packages from package-lock.json (npm ci), builds
# cmd/tributary, starts `tributary serve` in memory on a free loopback port,
# runs kinesis_h2.test.mjs with node's built-in test runner (node --test),
# then stops the server. Prints node's test summary and exits non-zero if
# any test failed.
#
# JS_KEEP=1 keeps the work directory (binary, server log).
#
# Needs: node (20 or later) and npm, go, curl.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

SERVER_PID=""
WORK=""

info() { echo "# $*"; }

server_log() {
	if [ -n "$WORK" ] && [ -s "$WORK/server.log" ]; then
		echo "# server log (last 40 lines):"
		tail -n 40 "$WORK/server.log" | sed 's/^/#   /'
	fi
}
die() {
	echo "FAIL - js: $*"
	server_log
	exit 1
}

cleanup() {
	local rc=$?
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "$WORK" ]; then
		if [ -n "${JS_KEEP:-}" ]; then echo "# kept work directory $WORK"; else rm -rf "$WORK"; fi
	fi
	exit "$rc"
}

# ---- prerequisites ---------------------------------------------------------
command -v node >/dev/null || { echo "js: node not found on PATH: install Node.js 20 or later (e.g. apt-get install -y nodejs npm)" >&2; exit 2; }
command -v npm >/dev/null || { echo "js: npm not found on PATH: install npm (e.g. apt-get install -y npm)" >&2; exit 2; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || { echo "js: node $(node --version) is too old: @aws-sdk/client-kinesis needs node >= 20" >&2; exit 2; }
command -v go >/dev/null || { echo "js: go not found on PATH" >&2; exit 2; }
command -v curl >/dev/null || { echo "js: curl not found on PATH" >&2; exit 2; }

trap cleanup EXIT
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tributary-js.XXXXXX")"

# ---- npm packages (exact versions from package-lock.json) -------------------
info "npm ci ($(node --version), npm $(npm --version 2>/dev/null))"
(cd "$HERE" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error) || die "npm ci in test/js"
info "@aws-sdk/client-kinesis $(node -p 'require("'"$HERE"'/node_modules/@aws-sdk/client-kinesis/package.json").version'), @smithy/node-http-handler $(node -p 'require("'"$HERE"'/node_modules/@smithy/node-http-handler/package.json").version')"

# ---- build and start the server --------------------------------------------
info "building tributary"
(cd "$ROOT" && go build -o "$WORK/tributary" ./cmd/tributary) || die "go build ./cmd/tributary"

# shellcheck source=../lib/server.sh
. "$ROOT/test/lib/server.sh"
start_tributary "$WORK/tributary" "$WORK/server.log" || die "tributary serve answers on a loopback port"
info "server up at $ENDPOINT (pid $SERVER_PID)"

# ---- client environment ------------------------------------------------------
# The test passes credentials, region and endpoint explicitly; keep any user
# AWS configuration out of it all the same.
touch "$WORK/aws-config" "$WORK/aws-credentials"
export AWS_CONFIG_FILE="$WORK/aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$WORK/aws-credentials"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KINESIS 2>/dev/null || true
# The SDK warns that its 2027 releases will need node 22; not our concern here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
export TRIBUTARY_ENDPOINT="$ENDPOINT"

# ---- run the tests -----------------------------------------------------------
rc=0
(cd "$HERE" && node --test --test-reporter=spec kinesis_h2.test.mjs) || rc=$?
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
	echo "FAIL - js: tributary serve exited during the tests"
	rc=1
fi
if [ "$rc" -ne 0 ]; then
	server_log
	echo "js: FAILED (node --test exit status $rc)"
	exit 1
fi
echo "js: all tests passed"
