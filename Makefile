# Entry points; the logic lives in scripts/ so it can run without make.

.PHONY: run test bench build

run:
	go run ./cmd/tributary serve

test:
	./scripts/test.sh

bench:
	./scripts/bench.sh

build:
	go build -o bin/tributary ./cmd/tributary
