//go:build faults

package store

// The long run (go test -tags faults -run TestRollingRestart
// ./internal/store): several rounds, and also without handing
// leaderships over first, for the comparison docs/operations.md reports.
const (
	rollingRounds = 3
	rollingModes  = 2
)
