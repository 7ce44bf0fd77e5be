package integration

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestReshardUnderWrites splits, merges and rescales a stream while
// writers keep putting records, then reads the whole shard lineage the
// way KCL does (a child only after all its parents reached their end) and
// checks that every acknowledged record is read exactly once and that
// each partition key's records come back in the order they were written.
func TestReshardUnderWrites(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 2)

	const writers, keysPerWriter = 4, 4
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := make([]int, keysPerWriter)
			for {
				select {
				case <-stop:
					return
				default:
				}
				var entries []types.PutRecordsRequestEntry
				for k := range keysPerWriter {
					for range 5 {
						entries = append(entries, types.PutRecordsRequestEntry{
							PartitionKey: aws.String(fmt.Sprintf("key-%d-%d", w, k)),
							Data:         []byte(fmt.Sprintf("key-%d-%d:%d", w, k, next[k])),
						})
						next[k]++
					}
				}
				out, err := c.PutRecords(ctxFor(t), &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				for i, r := range out.Records {
					if r.ErrorCode != nil {
						t.Errorf("writer %d: %s %s", w, *r.ErrorCode, aws.ToString(r.ErrorMessage))
						continue
					}
					acked[string(entries[i].Data)] = true
				}
				mu.Unlock()
			}
		}()
	}

	reshard := func(what string, call func() error) {
		t.Helper()
		time.Sleep(50 * time.Millisecond)
		if err := call(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		waitStatus(t, c, name, types.StreamStatusActive)
	}
	ranges := listShardRanges(t, c, name)
	mid := new(big.Int).Add(ranges[0].start, new(big.Int).Rsh(new(big.Int).Sub(ranges[0].end, ranges[0].start), 1))
	reshard("split shard 0", func() error {
		_, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
			ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(mid.String())})
		return err
	})
	reshard("merge the split's children", func() error {
		_, err := c.MergeShards(ctxFor(t), &kinesis.MergeShardsInput{StreamName: aws.String(name),
			ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000003")})
		return err
	})
	reshard("scale 2 -> 4", func() error {
		_, err := c.UpdateShardCount(ctxFor(t), &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
			TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
		return err
	})
	reshard("scale 4 -> 3", func() error {
		_, err := c.UpdateShardCount(ctxFor(t), &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
			TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling})
		return err
	})
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}

	// Read the lineage parents-first.
	shards, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]types.Shard{}
	for _, sh := range shards.Shards {
		byID[*sh.ShardId] = sh
	}
	done := map[string]bool{}
	lastN := map[string]int{}
	seen := map[string]bool{}
	readShard := func(sh types.Shard) {
		iter := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		closed := sh.SequenceNumberRange.EndingSequenceNumber != nil
		for {
			out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(iter)})
			if err != nil {
				t.Fatalf("%s: %v", *sh.ShardId, err)
			}
			for _, r := range out.Records {
				d := string(r.Data)
				if seen[d] {
					t.Fatalf("record %s read twice", d)
				}
				seen[d] = true
				key, n, _ := strings.Cut(d, ":")
				num, _ := strconv.Atoi(n)
				if last, ok := lastN[key]; ok && num <= last {
					t.Fatalf("%s: record %d of %s read after %d", *sh.ShardId, num, key, last)
				}
				lastN[key] = num
			}
			if out.NextShardIterator == nil {
				if !closed {
					t.Fatalf("%s is open but GetRecords returned no NextShardIterator", *sh.ShardId)
				}
				if len(out.ChildShards) == 0 {
					t.Fatalf("%s: end of a closed shard without ChildShards", *sh.ShardId)
				}
				for _, ch := range out.ChildShards {
					child, ok := byID[*ch.ShardId]
					if !ok {
						t.Fatalf("%s: unknown child %s", *sh.ShardId, *ch.ShardId)
					}
					parents := []string{aws.ToString(child.ParentShardId)}
					if child.AdjacentParentShardId != nil {
						parents = append(parents, *child.AdjacentParentShardId)
					}
					if fmt.Sprint(parents) != fmt.Sprint(ch.ParentShards) {
						t.Fatalf("child %s: ChildShards says parents %v, ListShards %v", *ch.ShardId, ch.ParentShards, parents)
					}
				}
				return
			}
			if !closed && len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
				return
			}
			iter = *out.NextShardIterator
		}
	}
	for progress := true; progress; {
		progress = false
		ids := make([]string, 0, len(byID))
		for id := range byID {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			sh := byID[id]
			if done[id] {
				continue
			}
			ready := true
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if p != nil && !done[*p] {
					ready = false
				}
			}
			if ready {
				readShard(sh)
				done[id] = true
				progress = true
			}
		}
	}
	if len(done) != len(byID) {
		t.Fatalf("read %d of %d shards: the lineage has a cycle or a missing parent", len(done), len(byID))
	}
	for d := range acked {
		if !seen[d] {
			t.Fatalf("acknowledged record %s was never read", d)
		}
	}
	open := 0
	for _, sh := range shards.Shards {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			open++
		}
	}
	if open != 3 || len(shards.Shards) < 8 {
		t.Fatalf("%d open of %d shards after the reshards, want 3 open", open, len(shards.Shards))
	}
	t.Logf("%d acknowledged records read exactly once across %d shards", len(acked), len(shards.Shards))
}

// TestUpdateShardCountUniform checks that UNIFORM_SCALING leaves equal
// shards (the even split of the key space) whose parents are the shards
// they took over from, and that ListShards' AT_LATEST filter then lists
// only them.
func TestUpdateShardCountUniform(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 3)
	out, err := c.UpdateShardCount(ctxFor(t), &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
		TargetShardCount: aws.Int32(2), ScalingType: types.ScalingTypeUniformScaling})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.CurrentShardCount) != 3 || aws.ToInt32(out.TargetShardCount) != 2 || aws.ToString(out.StreamName) != name {
		t.Fatalf("response %+v", out)
	}
	waitStatus(t, c, name, types.StreamStatusActive)
	latest, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name),
		ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]string{
		{"0", "170141183460469231731687303715884105727", "shardId-000000000000 shardId-000000000001"},
		{"170141183460469231731687303715884105728", "340282366920938463463374607431768211455", "shardId-000000000001 shardId-000000000002"},
	}
	if len(latest.Shards) != 2 {
		t.Fatalf("AT_LATEST lists %d shards, want 2", len(latest.Shards))
	}
	for i, sh := range latest.Shards {
		got := [3]string{*sh.HashKeyRange.StartingHashKey, *sh.HashKeyRange.EndingHashKey,
			aws.ToString(sh.ParentShardId) + " " + aws.ToString(sh.AdjacentParentShardId)}
		if got != want[i] {
			t.Errorf("open shard %d = %v, want %v", i, got, want[i])
		}
	}
	all, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range all.Shards[:3] {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			t.Errorf("old shard %s has no EndingSequenceNumber", *sh.ShardId)
		}
	}
}

// TestReshardErrors pins the errors of SplitShard, MergeShards and
// UpdateShardCount.
func TestReshardErrors(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 2)
	acct := "000000000000"
	r := listShardRanges(t, c, name)

	_, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(r[0].start.String())})
	wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("NewStartingHashKey 0 used in SplitShard() on shard shardId-000000000000 in stream %s under account %s is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey %s.", name, acct, r[0].end))

	_, err = c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: aws.String("shardId-000000000009"), NewStartingHashKey: aws.String("5")})
	wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Could not find shard shardId-000000000009 in stream %s under account %s.", name, acct))

	_, err = c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("1000")})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, name, types.StreamStatusActive)
	_, err = c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("500")})
	wantAPIError(t, err, "ResourceInUseException", fmt.Sprintf("Shard shardId-000000000000 in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.", name, acct))

	// Shards 2 (0..999) and 1 (upper half) are not adjacent.
	_, err = c.MergeShards(ctxFor(t), &kinesis.MergeShardsInput{StreamName: aws.String(name),
		ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000001")})
	wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("Shards shardId-000000000002 and shardId-000000000001 in stream %s under account %s are not an adjacent pair of shards eligible for merging", name, acct))

	_, err = c.UpdateShardCount(ctxFor(t), &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
		TargetShardCount: aws.Int32(7), ScalingType: types.ScalingTypeUniformScaling})
	wantAPIError(t, err, "InvalidArgumentException", "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 3 Target shard count: 7")
	_, err = c.UpdateShardCount(ctxFor(t), &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
		TargetShardCount: aws.Int32(1), ScalingType: types.ScalingTypeUniformScaling})
	wantAPIError(t, err, "InvalidArgumentException", "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 3 Target shard count: 1")

	err = rawErr(t, "UpdateShardCount", fmt.Sprintf(`{"StreamName":%q,"TargetShardCount":0,"ScalingType":"HALF"}`, name))
	wantAPIError(t, err, "ValidationException", "2 validation errors detected: Value 'HALF' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]; Value '0' at 'targetShardCount' failed to satisfy constraint: Member must have value greater than or equal to 1")
	err = rawErr(t, "SplitShard", fmt.Sprintf(`{"StreamName":%q}`, name))
	wantAPIError(t, err, "ValidationException", "2 validation errors detected: Value null at 'newStartingHashKey' failed to satisfy constraint: Member must not be null; Value null at 'shardToSplit' failed to satisfy constraint: Member must not be null")
}

// TestReshardLimits checks that a stream is UPDATING after a reshard and
// refuses another until it is ACTIVE again, and that UpdateShardCount is
// limited to 10 calls in 24 hours.
func TestReshardLimits(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-update-stream-delay", "1s")
	c := p.Client()
	ctx := testserver.Context(t, 2*time.Minute)
	name := "limits"
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	scale := func(n int32) error {
		_, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
			TargetShardCount: aws.Int32(n), ScalingType: types.ScalingTypeUniformScaling})
		return err
	}
	if err := scale(2); err != nil {
		t.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil || sum.StreamDescriptionSummary.StreamStatus != types.StreamStatusUpdating {
		t.Fatalf("status after a reshard = %v, %v; want UPDATING", sum, err)
	}
	wantAPIError(t, scale(1), "ResourceInUseException", "Stream limits under account 000000000000 not ACTIVE, instead in state UPDATING")
	// Writes go on while UPDATING.
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatalf("PutRecord while UPDATING: %v", err)
	}
	for i := 1; i < 10; i++ {
		poll(t, "ACTIVE", 10*time.Second, func() bool {
			s, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			return err == nil && s.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
		})
		if err := scale(int32(2 - i%2)); err != nil { // 1, 2, 1, ...: each call changes the count
			t.Fatalf("update %d: %v", i+1, err)
		}
	}
	poll(t, "ACTIVE", 10*time.Second, func() bool {
		s, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && s.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive
	})
	wantAPIError(t, scale(2), "LimitExceededException", "Exceeded the limit of 10 UpdateShardCount calls in a rolling 24-hour period for stream limits under account 000000000000.")
}

// TestListShardsFiltersAfterSplit pins what each ShardFilter selects once
// a stream has a closed parent and two open children.
func TestListShardsFiltersAfterSplit(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 1)
	// Creation times are whole seconds: keep each step in a second of its own.
	time.Sleep(1100 * time.Millisecond)
	beforeSplit := time.Now()
	time.Sleep(1100 * time.Millisecond)
	if _, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, name, types.StreamStatusActive)
	afterSplit := time.Now().Add(time.Second)
	ids := func(f *types.ShardFilter) string {
		t.Helper()
		out, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: f})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sh := range out.Shards {
			got = append(got, strings.TrimPrefix(*sh.ShardId, "shardId-00000000000"))
		}
		return strings.Join(got, ",")
	}
	tests := []struct {
		filter types.ShardFilter
		want   string
	}{
		{types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, "1,2"},
		{types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, "0,1,2"},
		{types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, "0"},
		{types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(beforeSplit)}, "0"},
		{types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: aws.Time(afterSplit)}, "1,2"},
		{types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(beforeSplit)}, "0,1,2"},
		{types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: aws.Time(afterSplit)}, "1,2"},
		{types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000000")}, "1,2"},
	}
	for _, tt := range tests {
		if got := ids(&tt.filter); got != tt.want {
			t.Errorf("%s at %v: shards %s, want %s", tt.filter.Type, aws.ToTime(tt.filter.Timestamp).Format(time.RFC3339Nano), got, tt.want)
		}
	}
}

// TestMergeShardsOrder pins that MergeShards wants ShardToMerge's hash
// key range directly before AdjacentShardToMerge's, as AWS does: the pair
// named the other way round is refused, naming the shards in the order
// given, and leaves the stream as it was; named in order it merges.
func TestMergeShardsOrder(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 2)
	_, err := c.MergeShards(ctxFor(t), &kinesis.MergeShardsInput{StreamName: aws.String(name),
		ShardToMerge: aws.String("shardId-000000000001"), AdjacentShardToMerge: aws.String("shardId-000000000000")})
	wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("Shards shardId-000000000001 and shardId-000000000000 in stream %s under account %s are not an adjacent pair of shards eligible for merging", name, defaultAccount))
	if r := listShardRanges(t, c, name); len(r) != 2 {
		t.Fatalf("%d shards after a refused merge, want 2", len(r))
	}
	if s := summary(t, c, name); s.StreamStatus != types.StreamStatusActive || aws.ToInt32(s.OpenShardCount) != 2 {
		t.Fatalf("after a refused merge the stream is %s with %d open shards", s.StreamStatus, aws.ToInt32(s.OpenShardCount))
	}
	if _, err := c.MergeShards(ctxFor(t), &kinesis.MergeShardsInput{StreamName: aws.String(name),
		ShardToMerge: aws.String("shardId-000000000000"), AdjacentShardToMerge: aws.String("shardId-000000000001")}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, name, types.StreamStatusActive)
	r := listShardRanges(t, c, name)
	if len(r) != 3 || r[2].start.Sign() != 0 || r[2].end.Cmp(maxHashKey) != 0 {
		t.Fatalf("after the merge: %+v", r)
	}
}

// TestSplitShardBounds pins the range of NewStartingHashKey SplitShard
// accepts: greater than the shard's StartingHashKey plus one and less
// than its EndingHashKey, so that each child is at least two keys wide.
func TestSplitShardBounds(t *testing.T) {
	t.Parallel()
	c := client()
	name := streamName(t)
	createStream(t, c, name, 2)
	r := listShardRanges(t, c, name)
	// Shard 1 starts at 2^127.
	start, end := r[1].start, r[1].end
	plus := func(a *big.Int, n int64) string { return new(big.Int).Add(a, big.NewInt(n)).String() }
	tests := []struct {
		name, key string
		ok        bool
	}{
		{"the shard's start", start.String(), false},
		{"start plus one: a one-key child", plus(start, 1), false},
		{"the shard's end", end.String(), false},
		{"past the end of the key space", plus(end, 1), false},
		{"below the shard", plus(start, -5), false},
		{"start plus two", plus(start, 2), true},
	}
	for _, tc := range tests {
		_, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
			ShardToSplit: aws.String("shardId-000000000001"), NewStartingHashKey: aws.String(tc.key)})
		if tc.ok {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, err, "InvalidArgumentException", fmt.Sprintf("NewStartingHashKey %s used in SplitShard() on shard shardId-000000000001 in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
				tc.key, name, defaultAccount, start, end))
		})
	}
	waitStatus(t, c, name, types.StreamStatusActive)
	r = listShardRanges(t, c, name)
	if len(r) != 4 || r[2].start.Cmp(start) != 0 || r[2].end.String() != plus(start, 1) || r[3].start.String() != plus(start, 2) || r[3].end.Cmp(end) != 0 {
		t.Fatalf("after splitting at start+2: %+v", r)
	}
	// end-1 is the last key a split may start at: the right child is [end-1, end].
	_, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
		ShardToSplit: aws.String("shardId-000000000003"), NewStartingHashKey: aws.String(plus(end, -1))})
	if err != nil {
		t.Fatalf("split at end-1: %v", err)
	}
}

// TestReshardWhileUpdating pins what AWS shows while a reshard's update is
// in progress, for SplitShard, MergeShards and UpdateShardCount: the
// stream is UPDATING and keeps its old shard map (DescribeStream and
// ListShards list only the old shards, none closed), puts land on the
// parents, and the children do not exist yet. Once the stream is ACTIVE
// the parents are closed with ending sequence numbers that cover the
// records put while UPDATING, the children are listed and take new
// writes, and a reader that follows parents before children reads every
// record exactly once.
//
// The server keeps streams UPDATING for 10 seconds. Each observation that
// must fall inside that window carries its own proof: DescribeStream
// returns the status with the shards, and ListShards and puts are
// followed by a status check that still says UPDATING (the status never
// goes back), so a slow machine cannot make the test pass wrongly.
func TestReshardWhileUpdating(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-update-stream-delay", "10s")
	c := p.Client()
	half := "170141183460469231731687303715884105728" // 2^127
	tests := []struct {
		name     string
		shards   int32
		reshard  func(name string) error
		children []string // ids the reshard creates
	}{
		{"SplitShard", 1, func(name string) error {
			_, err := c.SplitShard(ctxFor(t), &kinesis.SplitShardInput{StreamName: aws.String(name),
				ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String(half)})
			return err
		}, []string{"shardId-000000000001", "shardId-000000000002"}},
		{"MergeShards", 2, func(name string) error {
			_, err := c.MergeShards(ctxFor(t), &kinesis.MergeShardsInput{StreamName: aws.String(name),
				ShardToMerge: aws.String("shardId-000000000000"), AdjacentShardToMerge: aws.String("shardId-000000000001")})
			return err
		}, []string{"shardId-000000000002"}},
		{"UpdateShardCount", 2, func(name string) error {
			_, err := c.UpdateShardCount(ctxFor(t), &kinesis.UpdateShardCountInput{StreamName: aws.String(name),
				TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling})
			return err
		}, []string{"shardId-000000000002", "shardId-000000000003", "shardId-000000000004"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := streamName(t)
			if _, err := c.CreateStream(ctxFor(t), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(tc.shards)}); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, c, name, types.StreamStatusActive)
			acked := map[string]string{} // data -> sequence number
			put := func(prefix string, n int) []*kinesis.PutRecordOutput {
				t.Helper()
				var outs []*kinesis.PutRecordOutput
				for i := range n {
					d := fmt.Sprintf("%s-%d", prefix, i)
					out, err := c.PutRecord(ctxFor(t), &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String(d), Data: []byte(d)})
					if err != nil {
						t.Fatalf("PutRecord %s: %v", d, err)
					}
					acked[d] = *out.SequenceNumber
					outs = append(outs, out)
				}
				return outs
			}
			stillUpdating := func(what string) {
				t.Helper()
				if st := summary(t, c, name).StreamStatus; st != types.StreamStatusUpdating {
					t.Fatalf("the stream turned %s before %s could be checked: the machine is too slow for the 10s update", st, what)
				}
			}
			put("before", 10)
			old := listShardRanges(t, c, name)
			if err := tc.reshard(name); err != nil {
				t.Fatal(err)
			}

			d, err := c.DescribeStream(ctxFor(t), &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if d.StreamDescription.StreamStatus != types.StreamStatusUpdating {
				t.Fatalf("status right after %s = %s, want UPDATING", tc.name, d.StreamDescription.StreamStatus)
			}
			if got := shardsOf(d.StreamDescription.Shards); got != oldView(old) {
				t.Fatalf("DescribeStream while UPDATING lists %s, want the old map %s", got, oldView(old))
			}
			ls, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			stillUpdating("ListShards")
			if got := shardsOf(ls.Shards); got != oldView(old) {
				t.Fatalf("ListShards while UPDATING lists %s, want the old map %s", got, oldView(old))
			}
			_, err = c.GetShardIterator(ctxFor(t), &kinesis.GetShardIteratorInput{StreamName: aws.String(name),
				ShardId: aws.String(tc.children[0]), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			stillUpdating("GetShardIterator on a child")
			wantAPIError(t, err, "ResourceNotFoundException", fmt.Sprintf("Shard %s in stream %s under account %s does not exist", tc.children[0], name, defaultAccount))
			during := put("during", 10)
			stillUpdating("the puts")
			for _, out := range during {
				if !isOld(old, *out.ShardId) {
					t.Fatalf("a put while UPDATING landed on %s, not on one of the old shards", *out.ShardId)
				}
			}

			waitStatus(t, c, name, types.StreamStatusActive)
			after, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Shards) != len(old)+len(tc.children) {
				t.Fatalf("after the update: %s", shardsOf(after.Shards))
			}
			ends := map[string]string{}
			for i, sh := range after.Shards {
				if i >= len(old) {
					if *sh.ShardId != tc.children[i-len(old)] || sh.SequenceNumberRange.EndingSequenceNumber != nil {
						t.Fatalf("after the update, shard %d is %s (ending %v), want open child %s", i, *sh.ShardId,
							aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber), tc.children[i-len(old)])
					}
					continue
				}
				if sh.SequenceNumberRange.EndingSequenceNumber == nil {
					t.Fatalf("after the update, parent %s is still open", *sh.ShardId)
				}
				ends[*sh.ShardId] = *sh.SequenceNumberRange.EndingSequenceNumber
			}
			for _, out := range during {
				if !seqLess(*out.SequenceNumber, ends[*out.ShardId]) {
					t.Fatalf("record %s put while UPDATING on %s is past the parent's end %s", *out.SequenceNumber, *out.ShardId, ends[*out.ShardId])
				}
			}
			for _, out := range put("after", 10) {
				if isOld(old, *out.ShardId) {
					t.Fatalf("a put after the update landed on the closed parent %s", *out.ShardId)
				}
			}
			got := readLineage(t, c, name)
			if len(got) != len(acked) {
				t.Errorf("read %d records, %d were acknowledged", len(got), len(acked))
			}
			for d, seq := range acked {
				if got[d] != seq {
					t.Errorf("record %s: read with sequence %q, acknowledged as %s", d, got[d], seq)
				}
			}
		})
	}
}

// oldView renders shard ranges as shardsOf renders open shards.
func oldView(rs []shardRange) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s[%s..%s] ", r.id, r.start, r.end)
	}
	return b.String()
}

// shardsOf renders shards as ids and ranges, marking closed ones.
func shardsOf(shards []types.Shard) string {
	var b strings.Builder
	for _, sh := range shards {
		fmt.Fprintf(&b, "%s[%s..%s] ", *sh.ShardId, *sh.HashKeyRange.StartingHashKey, *sh.HashKeyRange.EndingHashKey)
		if sh.SequenceNumberRange.EndingSequenceNumber != nil {
			b.WriteString("(closed) ")
		}
	}
	return b.String()
}

func isOld(old []shardRange, id string) bool {
	for _, r := range old {
		if r.id == id {
			return true
		}
	}
	return false
}

// readLineage reads a whole stream as KCL does: a shard only once its
// parents were read to their end, each closed shard until GetRecords
// reports its end with ChildShards, each open one to its tip. It fails on
// a record read twice and returns each record's sequence number by data.
func readLineage(t *testing.T, c *kinesis.Client, name string) map[string]string {
	t.Helper()
	ls, err := c.ListShards(ctxFor(t), &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	done := map[string]bool{}
	for progress := true; progress; {
		progress = false
		for _, sh := range ls.Shards {
			if done[*sh.ShardId] || (sh.ParentShardId != nil && !done[*sh.ParentShardId]) ||
				(sh.AdjacentParentShardId != nil && !done[*sh.AdjacentParentShardId]) {
				continue
			}
			closed := sh.SequenceNumberRange.EndingSequenceNumber != nil
			it := iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			for {
				out, err := c.GetRecords(ctxFor(t), &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
				if err != nil {
					t.Fatalf("%s: %v", *sh.ShardId, err)
				}
				for _, r := range out.Records {
					if _, dup := seen[string(r.Data)]; dup {
						t.Fatalf("record %s read twice", r.Data)
					}
					seen[string(r.Data)] = *r.SequenceNumber
				}
				if out.NextShardIterator == nil {
					if !closed || len(out.ChildShards) == 0 {
						t.Fatalf("%s ended (closed: %v) with ChildShards %v", *sh.ShardId, closed, out.ChildShards)
					}
					break
				}
				if !closed && len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
					break
				}
				it = *out.NextShardIterator
			}
			done[*sh.ShardId] = true
			progress = true
		}
	}
	if len(done) != len(ls.Shards) {
		t.Fatalf("read %d of %d shards: a parent is missing", len(done), len(ls.Shards))
	}
	return seen
}
