#!/usr/bin/env bash
# The cluster benchmark (docs/benchmarks.md, "Cluster"): one node alone
# and a 3-node cluster with 3 replicas on loopback, the same put/get
# workload through every node, and SubscribeToShard push latency from one
# node to another. Extra arguments go to `tributary bench` (see
# `tributary bench -h`).
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o .cache/tributary ./cmd/tributary
exec nice -n 19 .cache/tributary bench -cluster 3 "$@"
