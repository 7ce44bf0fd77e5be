//go:build !faults

package faults

// The short run, in the normal test suite: every scenario of the
// fault-injection suite, with a few cycles, so that its code keeps
// working between long runs.
const (
	killCycles      = 3
	metadataCycles  = 3
	hostileRequests = 300
	slowConnections = 20
)
