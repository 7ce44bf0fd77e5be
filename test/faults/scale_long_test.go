//go:build faults

package faults

// The long run, `make faults` (go test -tags faults): the figures
// docs/reliability.md reports.
const (
	// killCycles is how many times TestKillUnderWriteLoad kills the
	// server in each durability mode.
	killCycles = 100
	// metadataCycles is how many times TestKillDuringMetadataOperations
	// kills the server.
	metadataCycles = 100
	// hostileRequests is how many hostile requests each API gets.
	hostileRequests = 10000
	// slowConnections is how many connections send half their headers
	// and stall.
	slowConnections = 500
)
