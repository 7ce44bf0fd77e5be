#!/usr/bin/env bash
# Runs the put/get benchmark against Tributary (both durability modes) and
# kinesalite, installing kinesalite from npm on first use. Extra arguments
# go to `tributary bench` (see `tributary bench -h`).
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.cache/tools
if [ ! -x "$tools/node_modules/.bin/kinesalite" ]; then
  echo "== installing kinesalite from npm" >&2
  mkdir -p "$tools"
  npm install --no-audit --no-fund --prefix "$tools" kinesalite@3.3.3 >&2
fi
go build -o .cache/tributary ./cmd/tributary
exec .cache/tributary bench -kinesalite "$tools/node_modules/.bin/kinesalite" "$@"
