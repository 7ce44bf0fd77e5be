# Entry points; the logic lives in scripts/ so it can run without make.

.PHONY: run test bench bench-cluster build faults faults-cluster

# The version and commit `tributary version` reports. Outside a git
# checkout they are empty, and the binary falls back to what a source
# archive or Go's build info recorded (cmd/tributary/version.go).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
# The full hash, with "-dirty" for uncommitted changes as VERSION and Go's
# own VCS stamp have (a --match no tag can meet leaves only the hash).
COMMIT ?= $(shell git describe --always --abbrev=40 --dirty --match=no-tag-is-named-this 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

run:
	go run ./cmd/tributary serve

test:
	./scripts/test.sh

bench:
	./scripts/bench.sh

# One node against a 3-node R3 cluster on loopback, and cross-node
# SubscribeToShard latency.
bench-cluster:
	./scripts/bench-cluster.sh

# The fault-injection suite at full size (root for the full-disk tests).
faults:
	./scripts/faults.sh

# Kills and a network partition on a 3-node cluster (root, minutes).
faults-cluster:
	./scripts/faults-cluster.sh

build:
	go build -ldflags "$(LDFLAGS)" -o bin/tributary ./cmd/tributary
