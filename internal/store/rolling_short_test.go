//go:build !faults

package store

// The short run, in the normal test suite: one round of restarts, with
// leaderships handed over first, as docs/operations.md says to.
const (
	rollingRounds = 1
	rollingModes  = 1
)
