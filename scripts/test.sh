#!/usr/bin/env bash
# The project's test command (README: `make test`). It installs what the
# tests need on a fresh Debian machine, then runs every check: formatting,
# vet, the Go unit, integration and crash tests, the JS SDK v3 test over
# HTTP/2 (test/js), and the end-to-end script with the AWS CLI and boto3.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages for the end-to-end clients.
need=()
[ -x /usr/bin/aws ] || need+=(awscli)
# A private MariaDB server for the change-data-capture tests (internal/testmariadb).
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
/usr/bin/python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)
# promtool lints /metrics (test/integration/promtool_test.go).
[ -x /usr/bin/promtool ] || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "== installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== go modules"
go mod download

echo "== gofmt, go vet"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
# The cluster fault tests (test/clusterfaults) run only under their tag
# (make faults-cluster: root, minutes); `go test ./...` reports that
# package as having no test files. Vet them here so they keep compiling.
go vet -tags clusterfaults ./test/clusterfaults

echo "== go test"
go test -count=1 -timeout 20m ./...

echo "== JS SDK v3 over HTTP/2"
# Needs node (20+) and npm on PATH; run.sh fails with a clear message if not.
bash test/js/run.sh

echo "== end-to-end (AWS CLI, boto3)"
bash test/e2e/run.sh
