package durability

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
)

// TestKillDuringStreamOperations kills the server with SIGKILL, at random
// moments, while it creates, reshards and deletes streams of many shards
// (so that the kills land between creating logs and writing metadata, and
// inside JetStream's own creations and deletions), then restarts it. No
// start may find a log directory JetStream cannot load, and in the end
// every log is one that a stream's metadata names: nothing a crash left
// accumulates.
func TestKillDuringStreamOperations(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"-data-dir", dir, "-durability", "sync"}
	ctx := testserver.Context(t, 3*time.Minute)
	rng := rand.New(rand.NewPCG(10, 4))
	for cycle := range 8 {
		p := testserver.Start(t, flags...)
		if log := p.Log(); strings.Contains(strings.ToLower(log), "missing stream metafile") {
			t.Fatalf("start %d found a log directory without its meta file:\n%s", cycle, log)
		}
		c := p.Client(func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
		opCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				churn(opCtx, c, fmt.Sprintf("s%d-%d", cycle, w))
			}()
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond)
		p.Kill()
		stop()
		wg.Wait()
	}
	p := testserver.Start(t, flags...)
	if log := p.Log(); strings.Contains(strings.ToLower(log), "missing stream metafile") {
		t.Fatalf("the last start found a log directory without its meta file:\n%s", log)
	}
	p.Stop()

	st, err := store.Open(ctx, store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	named := namedLogs(ctx, t, st)
	logs, err := st.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, l := range logs {
		if !named[l] {
			orphans = append(orphans, l)
		}
	}
	slices.Sort(orphans)
	if len(orphans) > 0 {
		t.Fatalf("%d logs that no stream names remain after the restart: %q", len(orphans), orphans)
	}
}

// churn creates, splits and deletes a stream of 32 shards over and over
// until ctx ends or the server is gone.
func churn(ctx context.Context, c *kinesis.Client, name string) {
	for i := 0; ctx.Err() == nil; i++ {
		n := aws.String(fmt.Sprintf("%s-%d", name, i))
		if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: n, ShardCount: aws.Int32(32)}); err != nil {
			return
		}
		_, _ = c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: n, TargetShardCount: aws.Int32(64),
			ScalingType: "UNIFORM_SCALING"})
		if i%2 == 0 {
			if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: n}); err != nil {
				return
			}
		}
	}
}

// namedLogs reads the streams' metadata from the store and returns the
// logs it names: each shard's, and a pending reshard's children's. It
// reads the stored JSON itself, as a tool inspecting a data directory
// would.
func namedLogs(ctx context.Context, t *testing.T, st *store.Store) map[string]bool {
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
			named[fmt.Sprintf("KS_%s_%d", m.UID, sh.Index)] = true
		}
	}
	return named
}
