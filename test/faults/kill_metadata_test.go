// Kills during metadata operations: every Kinesis operation that changes
// a stream's metadata, and connector creation and deletion through the
// Connect REST API, interrupted by SIGKILL at random moments.

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

// Streams every cycle's checks use, which no worker deletes.
const (
	baseStream = "base" // put/get and a reshard after every restart
	genStream  = "gen"  // the connectors' topic
)

// tagGroup is the tags one AddTagsToStream adds: all of them or none may
// be there after a crash.
var tagGroup = []string{"a", "b", "c", "d", "e"}

// TestKillDuringMetadataOperations runs workers that each create a
// stream and then, in turn, tag it, change its retention, register a
// consumer, split, merge and rescale it, create and delete a connector,
// remove the tags, deregister the consumer and delete the stream (and
// one that repeats the quick ones of these on a one-shard stream); it
// kills the server with SIGKILL at a random moment (a seeded generator,
// so a failure can be replayed), restarts it, and checks that every
// operation either happened or did not: the server starts without a log
// JetStream cannot load, every stream settles, its open shards cover the
// hash key range exactly once, a tag group is all there or absent,
// retention is the old or the new value, consumers and connectors are
// whole, and the streams take records and reshard. In the end no log is
// left that no stream names.
func TestKillDuringMetadataOperations(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"-data-dir", dir, "-durability", "sync"}
	ctx := testserver.Context(t, 30*time.Minute)
	rng := rand.New(rand.NewPCG(10, 2))

	p := testserver.Start(t, flags...)
	for _, s := range []string{baseStream, genStream} {
		if _, err := p.Client().CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(s), ShardCount: aws.Int32(2)}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu          sync.Mutex
		started     = map[string]int{} // operations started, by name, over all cycles
		interrupted = map[string]int{} // operations in flight at a kill
		failures    []string           // errors a live server returned
	)
	for cycle := range metadataCycles {
		opCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := metaWorker{c: p.Client(), connect: p.ConnectURL, name: fmt.Sprintf("m%d-%d", cycle, w), quick: w == 3}
				for i := 0; opCtx.Err() == nil; i++ {
					op, err := m.run(opCtx, i, func(op string) { mu.Lock(); started[op]++; mu.Unlock() })
					if err == nil {
						continue
					}
					mu.Lock()
					if opCtx.Err() == nil { // the server was alive when it failed
						failures = append(failures, fmt.Sprintf("cycle %d: %s of %s-%d: %v", cycle, op, m.name, i, err))
					} else {
						interrupted[op]++
					}
					mu.Unlock()
					return
				}
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(1500)) * time.Millisecond)
		stop() // first, so that errors after it are the kill's
		p.Kill()
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("operations failed before the kill:\n%s", strings.Join(failures, "\n"))
		}

		p = testserver.Start(t, flags...)
		if log := p.Log(); strings.Contains(strings.ToLower(log), "missing stream metafile") {
			t.Fatalf("start after kill %d found a log directory without its meta file:\n%s", cycle, log)
		}
		checkStreams(ctx, t, p, cycle)
		checkConnectors(t, p, cycle)
		checkUsable(ctx, t, p, cycle)
	}
	p.Stop()
	orphans := testserver.OrphanLogs(ctx, t, dir)
	t.Logf("FIGURES kill-metadata cycles=%d orphans=%d in-flight-at-kill: %s started: %s", metadataCycles, len(orphans),
		counts(interrupted), counts(started))
	if len(orphans) > 0 {
		t.Fatalf("%d logs that no stream names remain after %d kills: %q", len(orphans), metadataCycles, orphans)
	}
}

// counts formats counts by name, sorted by name.
func counts(m map[string]int) string {
	var out []string
	for name, n := range m {
		out = append(out, fmt.Sprintf("%s=%d", name, n))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// metaWorker runs one stream's life of metadata operations.
type metaWorker struct {
	c       *kinesis.Client
	connect string
	name    string
	// quick workers repeat the operations that take milliseconds (tags,
	// consumers, connectors) on a one-shard stream, so that kills land
	// inside them too and not only inside the slow ones.
	quick bool
}

// quickOps is what a quick worker does to each stream between its
// CreateStream and its DeleteStream, five times over.
var quickOps = []string{"AddTagsToStream", "RegisterStreamConsumer", "CreateConnector", "DeleteConnector",
	"DeregisterStreamConsumer", "RemoveTagsFromStream"}

// run runs the i-th life of the worker's streams; if an operation fails
// (as all do once the server is gone) it returns its name and error.
func (m metaWorker) run(ctx context.Context, i int, started func(op string)) (string, error) {
	name := aws.String(fmt.Sprintf("%s-%d", m.name, i))
	connector := *name + "-conn"
	steps := []struct {
		op string
		do func() error
	}{
		{"CreateStream", func() error {
			shards := int32(16)
			if m.quick {
				shards = 1
			}
			_, err := m.c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(shards)})
			return err
		}},
		{"AddTagsToStream", func() error {
			tags := map[string]string{}
			for _, k := range tagGroup {
				tags["group-"+k] = "1"
			}
			_, err := m.c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: name, Tags: tags})
			return err
		}},
		{"IncreaseStreamRetentionPeriod", func() error {
			_, err := m.c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(48)})
			return err
		}},
		{"RegisterStreamConsumer", func() error {
			arn, err := streamARN(ctx, m.c, *name)
			if err == nil {
				_, err = m.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app")})
			}
			return err
		}},
		{"SplitShard", func() error {
			_, err := m.c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: name, ShardToSplit: aws.String("shardId-000000000000"),
				NewStartingHashKey: aws.String("10633823966279326983230456482242756608")})
			return err
		}},
		{"MergeShards", func() error {
			_, err := m.c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: name, ShardToMerge: aws.String("shardId-000000000016"),
				AdjacentShardToMerge: aws.String("shardId-000000000017")})
			return err
		}},
		{"UpdateShardCount", func() error {
			_, err := m.c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: name, TargetShardCount: aws.Int32(32), ScalingType: types.ScalingTypeUniformScaling})
			return err
		}},
		{"DecreaseStreamRetentionPeriod", func() error {
			_, err := m.c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: name, RetentionPeriodHours: aws.Int32(24)})
			return err
		}},
		{"CreateConnector", func() error {
			return connectCall(ctx, "POST", m.connect+"/connectors", map[string]any{"name": connector, "config": generatorConfig()}, http.StatusCreated)
		}},
		{"DeleteConnector", func() error {
			return connectCall(ctx, "DELETE", m.connect+"/connectors/"+url.PathEscape(connector), nil, http.StatusNoContent)
		}},
		{"RemoveTagsFromStream", func() error {
			keys := make([]string, len(tagGroup))
			for i, k := range tagGroup {
				keys[i] = "group-" + k
			}
			_, err := m.c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: name, TagKeys: keys})
			return err
		}},
		{"DeregisterStreamConsumer", func() error {
			arn, err := streamARN(ctx, m.c, *name)
			if err == nil {
				_, err = m.c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app")})
			}
			return err
		}},
		{"DeleteStream", func() error {
			_, err := m.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: name, EnforceConsumerDeletion: aws.Bool(true)})
			return err
		}},
	}
	if m.quick {
		byOp := map[string]int{}
		for i, s := range steps {
			byOp[s.op] = i
		}
		quick := steps[:1:1] // capacity 1: appends copy rather than overwrite steps
		for range 5 {
			for _, op := range quickOps {
				quick = append(quick, steps[byOp[op]])
			}
		}
		steps = append(quick, steps[len(steps)-1])
	}
	for _, s := range steps {
		started(s.op)
		if err := s.do(); err != nil {
			return s.op, err
		}
	}
	return "", nil
}

// generatorConfig is a data generator connector writing one record a
// second to genStream.
func generatorConfig() map[string]string {
	return map[string]string{
		"connector.class":               "com.amazonaws.mskdatagen.GeneratorSourceConnector",
		"tasks.max":                     "1",
		"genkp." + genStream + ".with":  "#{Internet.uuid}",
		"genv." + genStream + ".n.with": "#{Number.randomDigit}",
		"global.throttle.ms":            "1000",
	}
}

func streamARN(ctx context.Context, c *kinesis.Client, name string) (*string, error) {
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return out.StreamDescriptionSummary.StreamARN, nil
}

// connectCall sends a Connect REST request with a JSON body and wants the
// given status.
func connectCall(ctx context.Context, method, u string, body any, want int) error {
	var r *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d", method, u, resp.StatusCode)
	}
	return nil
}

// checkStreams waits for every stream to settle after a restart and
// checks that each interrupted operation happened whole or not at all;
// then it deletes the streams the workers made.
func checkStreams(ctx context.Context, t *testing.T, p *testserver.Proc, cycle int) {
	t.Helper()
	c := p.Client()
	var names []string
	for page := kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{}); page.HasMorePages(); {
		out, err := page.NextPage(ctx)
		if err != nil {
			t.Fatalf("cycle %d: ListStreams: %v", cycle, err)
		}
		names = append(names, out.StreamNames...)
	}
	for _, name := range names {
		var sum *types.StreamDescriptionSummary
		testserver.WaitUntil(t, fmt.Sprintf("stream %s to settle after kill %d", name, cycle), 60*time.Second, func() bool {
			out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			if err != nil {
				if strings.Contains(err.Error(), "ResourceNotFoundException") {
					sum = nil
					return true // a deletion finished
				}
				t.Fatalf("cycle %d: DescribeStreamSummary %s: %v", cycle, name, err)
			}
			sum = out.StreamDescriptionSummary
			return sum.StreamStatus == types.StreamStatusActive
		})
		if sum == nil {
			continue
		}
		if h := aws.ToInt32(sum.RetentionPeriodHours); h != 24 && h != 48 {
			t.Errorf("cycle %d: %s has retention %d hours, neither before nor after a change", cycle, name, h)
		}
		checkShards(ctx, t, c, name, cycle)
		checkTags(ctx, t, c, name, cycle)
		checkConsumers(ctx, t, c, sum.StreamARN, cycle)
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
			t.Errorf("cycle %d: PutRecord to %s: %v", cycle, name, err)
		}
		if name != baseStream && name != genStream { // checked: make room for the next cycle's
			if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
				t.Errorf("cycle %d: DeleteStream %s: %v", cycle, name, err)
			}
		}
	}
}

// checkShards checks that the open shards cover the hash key range
// exactly once: a reshard cut short neither lost nor doubled a range.
func checkShards(ctx context.Context, t *testing.T, c *kinesis.Client, name string, cycle int) {
	t.Helper()
	next := big.NewInt(0)
	for _, sh := range openShards(ctx, t, c, name, cycle) {
		if hashKey(sh.HashKeyRange.StartingHashKey).Cmp(next) != 0 {
			t.Fatalf("cycle %d: %s's open shards leave a gap or overlap at %s: %s starts at %s", cycle, name, next,
				*sh.ShardId, *sh.HashKeyRange.StartingHashKey)
		}
		next = new(big.Int).Add(hashKey(sh.HashKeyRange.EndingHashKey), big.NewInt(1))
	}
	if top := new(big.Int).Lsh(big.NewInt(1), 128); next.Cmp(top) != 0 {
		t.Fatalf("cycle %d: %s's open shards end at %s, not 2^128-1", cycle, name, new(big.Int).Sub(next, big.NewInt(1)))
	}
}

// openShards lists a stream's open shards in hash key order.
func openShards(ctx context.Context, t *testing.T, c *kinesis.Client, name string, cycle int) []types.Shard {
	t.Helper()
	var open []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name)}
	for {
		out, err := c.ListShards(ctx, in)
		if err != nil {
			t.Fatalf("cycle %d: ListShards %s: %v", cycle, name, err)
		}
		for _, sh := range out.Shards {
			if sh.SequenceNumberRange.EndingSequenceNumber == nil {
				open = append(open, sh)
			}
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	slices.SortFunc(open, func(a, b types.Shard) int {
		return hashKey(a.HashKeyRange.StartingHashKey).Cmp(hashKey(b.HashKeyRange.StartingHashKey))
	})
	return open
}

func hashKey(s *string) *big.Int {
	n, _ := new(big.Int).SetString(aws.ToString(s), 10)
	return n
}

// checkTags checks that a tag group is all there or absent.
func checkTags(ctx context.Context, t *testing.T, c *kinesis.Client, name string, cycle int) {
	t.Helper()
	out, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("cycle %d: ListTagsForStream %s: %v", cycle, name, err)
	}
	if n := len(out.Tags); n != 0 && n != len(tagGroup) {
		t.Errorf("cycle %d: %s has %d of the %d tags one AddTagsToStream or RemoveTagsFromStream set: %v", cycle, name, n, len(tagGroup), out.Tags)
	}
}

// checkConsumers waits for every consumer to become ACTIVE or go.
func checkConsumers(ctx context.Context, t *testing.T, c *kinesis.Client, arn *string, cycle int) {
	t.Helper()
	testserver.WaitUntil(t, fmt.Sprintf("consumers of %s to settle after kill %d", *arn, cycle), 60*time.Second, func() bool {
		out, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: arn})
		if err != nil {
			t.Fatalf("cycle %d: ListStreamConsumers %s: %v", cycle, *arn, err)
		}
		for _, co := range out.Consumers {
			if co.ConsumerStatus != types.ConsumerStatusActive {
				return false
			}
		}
		return true
	})
}

// checkConnectors checks that every connector a restart brought back has
// the whole configuration it was created with, and a status; then it
// deletes them.
func checkConnectors(t *testing.T, p *testserver.Proc, cycle int) {
	t.Helper()
	resp, err := http.Get(p.ConnectURL + "/connectors?expand=info&expand=status")
	if err != nil {
		t.Fatalf("cycle %d: GET /connectors: %v", cycle, err)
	}
	defer resp.Body.Close()
	var list map[string]struct {
		Info struct {
			Config map[string]string `json:"config"`
		} `json:"info"`
		Status struct {
			Connector struct {
				State string `json:"state"`
			} `json:"connector"`
		} `json:"status"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cycle %d: GET /connectors: status %d", cycle, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("cycle %d: GET /connectors: %v", cycle, err)
	}
	for name, c := range list {
		for k, v := range generatorConfig() {
			if c.Info.Config[k] != v {
				t.Errorf("cycle %d: connector %s came back with %s=%q, created with %q", cycle, name, k, c.Info.Config[k], v)
			}
		}
		if c.Status.Connector.State == "" || c.Status.Connector.State == "FAILED" {
			t.Errorf("cycle %d: connector %s is in state %q after the restart", cycle, name, c.Status.Connector.State)
		}
		// Checked: delete it, so that connectors do not pile up.
		if err := connectCall(context.Background(), "DELETE", p.ConnectURL+"/connectors/"+url.PathEscape(name), nil, http.StatusNoContent); err != nil {
			t.Errorf("cycle %d: delete connector %s: %v", cycle, name, err)
		}
	}
}

// checkUsable puts a record to the base stream, reads every record put so
// far, one per restart, and reshards it, splitting or merging.
func checkUsable(ctx context.Context, t *testing.T, p *testserver.Proc, cycle int) {
	t.Helper()
	c := p.Client()
	data := fmt.Sprintf("after kill %d", cycle)
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(baseStream), PartitionKey: aws.String(data), Data: []byte(data)}); err != nil {
		t.Fatalf("cycle %d: PutRecord: %v", cycle, err)
	}
	got := map[string]int{}
	for _, r := range testserver.ReadStream(t, c, baseStream) {
		got[string(r.Data)]++
	}
	for i := range cycle + 1 {
		if d := fmt.Sprintf("after kill %d", i); got[d] != 1 {
			t.Fatalf("cycle %d: %q read %d times from %s", cycle, d, got[d], baseStream)
		}
	}
	// Split the first open shard while there are fewer than 4, else merge
	// the first two: UpdateShardCount is limited to 10 a day per stream.
	open := openShards(ctx, t, c, baseStream, cycle)
	want := len(open) + 1
	if len(open) < 4 {
		sh := open[0]
		lo, hi := hashKey(sh.HashKeyRange.StartingHashKey), hashKey(sh.HashKeyRange.EndingHashKey)
		mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
		if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(baseStream), ShardToSplit: sh.ShardId,
			NewStartingHashKey: aws.String(new(big.Int).Add(mid, big.NewInt(1)).String())}); err != nil {
			t.Fatalf("cycle %d: SplitShard %s of %s: %v", cycle, *sh.ShardId, baseStream, err)
		}
	} else {
		want = len(open) - 1
		if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(baseStream), ShardToMerge: open[0].ShardId,
			AdjacentShardToMerge: open[1].ShardId}); err != nil {
			t.Fatalf("cycle %d: MergeShards %s and %s of %s: %v", cycle, *open[0].ShardId, *open[1].ShardId, baseStream, err)
		}
	}
	testserver.WaitUntil(t, baseStream+" to be ACTIVE after a reshard", 60*time.Second, func() bool {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(baseStream)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive &&
			int(aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount)) == want
	})
}
