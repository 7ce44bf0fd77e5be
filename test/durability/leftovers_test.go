package durability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestLeftoversOfCrashesAreCleanedUp plants, in a stopped server's data
// directory, what crashes at the wrong moment leave behind: the logs of
// children a reshard created before a crash kept it from writing the
// metadata (one of them with another retention), the logs of a
// CreateStream that crashed the same way, and a log directory without its
// meta file (a log creation or deletion interrupted inside JetStream).
// After a restart SplitShard, MergeShards and UpdateShardCount all
// succeed, no orphan remains, and JetStream no longer warns about a
// missing meta file. A log that no stream names but that holds records
// (as only lost metadata could leave) is kept and reported, not deleted.
//
// The stream has layout A (a JetStream stream per shard), whose logs the
// planted leftovers imitate; the orphan sweep of layout B's stripes is
// tested in internal/streams.
func TestLeftoversOfCrashesAreCleanedUp(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"-data-dir", dir, "-durability", "sync", "-stripe-shards", "0"}
	ctx := testserver.Context(t, 2*time.Minute)
	name := aws.String("leftovers")

	p := testserver.Start(t, flags...)
	c := p.Client()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	put := func(c *kinesis.Client, data string) {
		t.Helper()
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: name, PartitionKey: aws.String(data), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	put(c, "before")
	p.Kill()

	uid := plantLeftovers(ctx, t, dir)

	// The restart runs in this process, so -race and -cover see recovery.
	p = inproc.Start(t, flags...)
	c = p.Client()
	if log := p.Log(); strings.Contains(strings.ToLower(log), "missing stream metafile") {
		t.Errorf("JetStream still finds a log directory without its meta file:\n%s", log)
	}
	if !strings.Contains(p.Log(), "log=KS_feedfacefeedface_0") {
		t.Errorf("the unnamed log that holds a record was not reported:\n%s", p.Log())
	}
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("85070591730234615865843651857942052864")}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name,
		ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000003")}); err != nil {
		t.Fatalf("MergeShards: %v", err)
	}
	if _, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: name, TargetShardCount: aws.Int32(4),
		ScalingType: "UNIFORM_SCALING"}); err != nil {
		t.Fatalf("UpdateShardCount: %v", err)
	}
	put(c, "after")
	ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Shards) != 9 {
		t.Fatalf("after split, merge and scaling to 4 the stream has %d shards, want 9: %+v", len(ls.Shards), shardsOf(ls.Shards))
	}
	var got []string
	for _, r := range testserver.ReadStream(t, c, *name) {
		got = append(got, string(r.Data))
	}
	if !slices.Equal(got, []string{"before", "after"}) && !slices.Equal(got, []string{"after", "before"}) {
		t.Fatalf("records read back: %q, want before and after", got)
	}
	p.Stop()

	st, err := store.Open(ctx, store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logs, err := st.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(logs)
	want := []string{"KS_feedfacefeedface_0"}
	for i := range 9 {
		want = append(want, fmt.Sprintf("KS_%s_%d", uid, i))
	}
	slices.Sort(want)
	if !slices.Equal(logs, want) {
		t.Fatalf("logs after the restart and the reshards:\n got %q\nwant %q", logs, want)
	}
}

// plantLeftovers opens the stopped server's store and leaves in it what
// interrupted operations leave, returning the uid that names the one
// stream's logs.
func plantLeftovers(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	st, err := store.Open(ctx, store.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logs, err := st.Logs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 {
		t.Fatalf("a stream of 2 shards has logs %q", logs)
	}
	uid := strings.TrimSuffix(strings.TrimPrefix(slices.Min(logs), "KS_"), "_0")
	day := 24 * time.Hour
	for _, l := range []struct {
		name   string
		maxAge time.Duration
	}{
		{"KS_" + uid + "_2", day},       // a split's children
		{"KS_" + uid + "_3", time.Hour}, // ...made under another retention
		{"KS_" + uid + "_9", day},       // an index no reshard below reaches
		{"KS_0123456789abcdef_0", day},  // a CreateStream's shards
		{"KS_0123456789abcdef_1", day},
		{"KS_feedfacefeedface_0", day}, // a log with records and no metadata
	} {
		if err := st.CreateLog(ctx, l.name, l.maxAge); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AppendAsync("KS_feedfacefeedface_0", []byte("unnamed")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "jetstream", "$G", "streams", "KS_0123456789abcdef_2", "msgs")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	return uid
}
