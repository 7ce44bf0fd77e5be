package testserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/tributary-data/tributary/internal/store"
)

// OrphanLogs opens the data directory of a stopped server and returns
// the logs that no stream's metadata names, sorted: what crashes at the
// wrong moment would leave behind if start-up did not clean up.
func OrphanLogs(ctx context.Context, t testing.TB, dir string) []string {
	t.Helper()
	st, err := store.Open(ctx, store.Config{Dir: dir})
	if err != nil {
		t.Fatalf("open the store in %s: %v", dir, err)
	}
	defer st.Close()
	named := namedLogs(ctx, t, st)
	logs, err := st.Logs(ctx)
	if err != nil {
		t.Fatalf("list logs in %s: %v", dir, err)
	}
	var orphans []string
	for _, l := range logs {
		if !named[l] {
			orphans = append(orphans, l)
		}
	}
	slices.Sort(orphans)
	return orphans
}

// namedLogs reads the streams' metadata from the store and returns the
// logs it names: each shard's (layout A) or stripe's (layout B), and a
// pending reshard's children's. It
// reads the stored JSON itself, as a tool inspecting a data directory
// would.
func namedLogs(ctx context.Context, t testing.TB, st *store.Store) map[string]bool {
	t.Helper()
	entries, err := st.List(ctx, "stream.>")
	if err != nil {
		t.Fatal(err)
	}
	type shard struct {
		Index int `json:"index"`
	}
	named := map[string]bool{}
	for _, e := range entries {
		var m struct {
			UID     string  `json:"uid"`
			Stripe  int     `json:"stripeShards"`
			Shards  []shard `json:"shards"`
			Reshard *struct {
				Open []shard `json:"open"`
			} `json:"reshard"`
		}
		if err := json.Unmarshal(e.Value, &m); err != nil {
			t.Fatalf("stream metadata %s: %v", e.Key, err)
		}
		shards := m.Shards
		if m.Reshard != nil {
			shards = append(shards, m.Reshard.Open...)
		}
		for _, sh := range shards {
			if m.Stripe > 0 { // layout B: a JetStream stream per stripe of shards
				named[fmt.Sprintf("KSB_%s_%d", m.UID, sh.Index/m.Stripe)] = true
			} else {
				named[fmt.Sprintf("KS_%s_%d", m.UID, sh.Index)] = true
			}
		}
	}
	return named
}
