// Kills under write load: the central promise, that an acknowledged write
// survives a crash, tested many times in a row on one data directory.

package faults

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestKillUnderWriteLoad kills the server with SIGKILL killCycles times
// in each durability mode while eight writers put records with
// PutRecords, restarting it on the same data directory each time, and
// then reads every shard back: each acknowledged record must be there
// exactly once, under the sequence number it was acknowledged with, and
// each writer's records in the order it wrote them; a record whose put
// failed may be there, once. Both modes promise this for a process
// crash: sync fsyncs before the acknowledgement, interval hands the data
// to the OS before it.
func TestKillUnderWriteLoad(t *testing.T) {
	for _, durability := range []string{"interval", "sync"} {
		t.Run(durability, func(t *testing.T) {
			dir := t.TempDir()
			flags := []string{"-data-dir", dir, "-durability", durability}
			ctx := testserver.Context(t, 25*time.Minute)
			rng := rand.New(rand.NewPCG(10, uint64(len(durability)))) // replayable kill moments
			p := testserver.Start(t, flags...)
			load := testserver.NewLoad("kill-"+durability, 8, 10)
			if _, err := p.Client().CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(load.Stream),
				ShardCount: aws.Int32(4)}); err != nil {
				t.Fatal(err)
			}
			for cycle := range killCycles {
				if n := load.RunUntilKilled(ctx, p, time.Duration(100+rng.IntN(400))*time.Millisecond); n == 0 {
					t.Fatalf("cycle %d: no record was acknowledged; the test did not exercise the server", cycle)
				}
				p = testserver.Start(t, flags...)
			}
			chk := load.Verify(ctx, t, p.Client())
			// The summary of scripts/faults.sh picks up this line.
			t.Logf("FIGURES kill-under-load durability=%s cycles=%d acked=%d lost=%d duplicated=%d reordered=%d unacked=%d unacked_stored=%d",
				durability, killCycles, chk.Acked, chk.Lost, chk.Duplicated, chk.Reordered, load.Unacked, chk.UnackedStored)
			if !chk.OK() {
				t.Fatalf("after %d kills: %d lost, %d duplicated, %d reordered:\n%q", killCycles, chk.Lost, chk.Duplicated, chk.Reordered, chk.Problems)
			}
		})
	}
}
