package debezium

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
)

// Debezium MySQL's offset keys.
const (
	offsetFile              = "file"
	offsetPos               = "pos"
	offsetGTIDs             = "gtids"
	offsetTsSec             = "ts_sec"
	offsetServerID          = "server_id"
	offsetSnapshot          = "snapshot"
	offsetSnapshotCompleted = "snapshot_completed"
	// snapshotInitial is the "snapshot" value Debezium 2.6+ writes while
	// its initial snapshot runs (older versions wrote true).
	snapshotInitial = "INITIAL"
)

// Offset is the source offset of a position, as Debezium MySQL writes it
// at a transaction boundary: file, pos, gtids (when the server has
// GTIDs), ts_sec (the time of the last event read) and server_id (of the
// server that wrote it, when known). Offsets written while the snapshot
// runs also have snapshot "INITIAL", so that a restart takes the
// snapshot again rather than stream from a position the snapshot has
// not caught up with.
func Offset(pos cdc.Position, eventTime time.Time, serverID uint32, snapshot bool) map[string]any {
	m := map[string]any{offsetFile: pos.File, offsetPos: int64(pos.Pos)}
	if pos.GTIDSet != "" {
		m[offsetGTIDs] = strings.NewReplacer("\n", "", "\r", "").Replace(pos.GTIDSet)
	}
	if !eventTime.IsZero() {
		m[offsetTsSec] = eventTime.Unix()
	}
	if serverID != 0 {
		m[offsetServerID] = int64(serverID)
	}
	if snapshot {
		m[offsetSnapshot] = snapshotInitial
	}
	return m
}

var mariadbGTIDRE = regexp.MustCompile(`^\s*\d+-\d+-\d+`)

// PositionFromOffset reads a stored offset back into the position to
// resume from. It returns nil, meaning "no stored position", for no
// offset and for one written while the initial snapshot ran (Debezium's
// snapshot true or "INITIAL" without snapshot_completed): that snapshot
// did not finish, so it must be taken again. Offsets written by Debezium
// itself are read too; their row and event skip counters are ignored,
// since Tributary resumes at the transaction's start.
func PositionFromOffset(off map[string]any) (*cdc.Position, error) {
	if len(off) == 0 {
		return nil, nil
	}
	if snapshotRunning(off) {
		return nil, nil
	}
	file, ok := off[offsetFile].(string)
	if !ok {
		return nil, fmt.Errorf("source offset %v: 'file' parameter is missing", off)
	}
	pos, err := offsetNumber(off[offsetPos])
	if err != nil {
		return nil, fmt.Errorf("source offset %v: 'pos': %w", off, err)
	}
	if pos < 0 || pos > math.MaxUint32 {
		return nil, fmt.Errorf("source offset %v: 'pos' %d is out of range", off, pos)
	}
	p := &cdc.Position{File: file, Pos: uint32(pos)}
	if g, ok := off[offsetGTIDs].(string); ok {
		p.GTIDSet = g
	}
	switch {
	case strings.Contains(p.GTIDSet, ":"):
		p.Flavor = "mysql"
	case mariadbGTIDRE.MatchString(p.GTIDSet):
		p.Flavor = "mariadb"
	}
	if p.File == "" && p.GTIDSet == "" {
		return nil, nil // Debezium's initial offset: nothing read yet
	}
	return p, nil
}

// snapshotRunning reports an offset written during an initial snapshot.
func snapshotRunning(off map[string]any) bool {
	if isTrue(off[offsetSnapshotCompleted]) {
		return false
	}
	switch v := off[offsetSnapshot].(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true") || v == snapshotInitial
	}
	return false
}

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// offsetNumber reads a number stored in an offset, which JSON storage
// may have turned into a float64 or json.Number.
func offsetNumber(v any) (int64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case json.Number:
		return strconv.ParseInt(string(x), 10, 64)
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}
