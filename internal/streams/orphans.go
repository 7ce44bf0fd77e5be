package streams

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tributary-data/tributary/internal/storage"
)

// Orphan logs. A shard's log is created before the metadata that names it
// is written (CreateStream, a reshard's completion), so that no metadata
// ever names a missing log. A crash between the two leaves a log that no
// stream names: an orphan. Orphans are harmless to correctness (a log is
// named by its stream's incarnation and shard index, and indexes are
// never reused within an incarnation, so the next reshard of the same
// stream reuses a leftover child instead of colliding with it), but they
// accumulate, one per crash. Start-up removes them.

// logPrefixes start the name of every shard log of layout A and every
// stripe of layout B (layout.go).
var logPrefixes = []string{"KS_", "KSB_"}

// referencedLogs lists the JetStream streams the given streams name:
// every shard's log (layout A) or stripe (B), and the children's of a
// pending reshard, whose completion may already have made them.
func referencedLogs(ms []*Meta) map[string]bool {
	refs := map[string]bool{}
	for _, m := range ms {
		for _, log := range m.StoreNames() {
			refs[log] = true
		}
	}
	return refs
}

// removeOrphanLogs deletes the shard logs that no stream's metadata names
// and that were never written to. It runs in New, before the service
// serves anything, so nothing can be creating a log meanwhile; even so it
// checks each candidate twice: against the metadata read again from the
// bucket (not the copy in memory), and against the log itself. A log that
// holds or held records is never removed: no crash leaves one unnamed
// (a deletion removes the logs before the metadata), so one means the
// metadata was lost or damaged, and its records may still be wanted. It
// is kept and reported.
//
// On a store shared with other nodes it does nothing: another node may
// be creating a stream's logs right now, before writing the metadata
// that names them, so no log can be told to be an orphan.
func (e *Engine) removeOrphanLogs(ctx context.Context) error {
	if e.st.ManyWriters() {
		return nil
	}
	names, err := e.st.Logs(ctx)
	if err != nil {
		return fmt.Errorf("look for orphan logs: %w", err)
	}
	refs := referencedLogs(e.cat.all("stream."))
	var candidates []string
	for _, n := range names {
		if (strings.HasPrefix(n, logPrefixes[0]) || strings.HasPrefix(n, logPrefixes[1])) && !refs[n] {
			candidates = append(candidates, n)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	fresh, err := newCatalog(ctx, e.st)
	if err != nil {
		return fmt.Errorf("look for orphan logs: %w", err)
	}
	refs = referencedLogs(fresh.all("stream."))
	for _, n := range candidates {
		if refs[n] {
			continue
		}
		st, err := e.st.State(ctx, n)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("orphan log %s: %w", n, err)
		}
		if st.LastSeq > 0 {
			e.log.Warn("a shard log that no stream names holds records; kept, since its stream's metadata may have been lost",
				"log", n, "records", st.Msgs, "bytes", st.Bytes)
			continue
		}
		if err := e.st.DeleteLog(ctx, n); err != nil {
			return fmt.Errorf("orphan log %s: %w", n, err)
		}
		e.log.Info("removed an empty shard log that no stream names, left by a stream creation or reshard that a crash interrupted",
			"log", n)
	}
	return nil
}
