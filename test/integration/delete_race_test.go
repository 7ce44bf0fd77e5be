package integration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// TestCreateRightAfterDelete re-creates a stream as soon as it is deleted,
// 100 times, on a server whose deletions take a few milliseconds. Each
// CreateStream runs into the previous incarnation's deletion: while that
// is DELETING the create is ResourceInUseException, and the create that
// comes as the deletion's delay ends races the background task that
// finishes it. That race once lost with a 500 (`revision conflict`)
// about 7 times in 100; now the create succeeds or is refused as AWS
// refuses it, and nothing else.
func TestCreateRightAfterDelete(t *testing.T) {
	t.Parallel()
	p := inproc.Start(t, "-delete-stream-delay", "5ms")
	// Retries would hide a 500 behind a later success.
	c := p.Client(func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	// 100 cycles of requests take longer than ctxFor's minute under -race
	// on a busy machine.
	ctx := testserver.Context(t, 5*time.Minute)
	name := aws.String("recreated")
	inUse := fmt.Sprintf("Stream recreated under account %s already exists.", defaultAccount)
	create := func(cycle int) {
		for attempt := 0; ; attempt++ {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: name, ShardCount: aws.Int32(1)})
			if err == nil {
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceInUseException" || ae.ErrorMessage() != inUse {
				t.Fatalf("cycle %d, attempt %d: CreateStream: %v", cycle, attempt, err)
			}
		}
	}
	create(-1)
	for cycle := range 100 {
		if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: name}); err != nil {
			t.Fatalf("cycle %d: DeleteStream: %v", cycle, err)
		}
		create(cycle)
	}
	if log := p.Log(); strings.Contains(log, "level=ERROR") {
		t.Fatalf("server logged errors:\n%s", log)
	}
}

// TestRepeatedDeleteStartsOneDeletion deletes a stream five times while it
// is DELETING. Each repeat succeeds without doing anything, as the first
// did the work: one deletion task runs, not one per call (each used to
// start its own, and they raced each other to remove the metadata).
func TestRepeatedDeleteStartsOneDeletion(t *testing.T) {
	t.Parallel()
	// Long enough for the five calls below to see DELETING under -race
	// on a busy machine.
	p := inproc.Start(t, "-delete-stream-delay", "3s", "-log-level", "debug")
	c := p.Client()
	ctx := ctxFor(t)
	name := "deleted-five-times"
	createStream(t, c, name, 2)
	for i := range 5 {
		if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
			t.Fatalf("DeleteStream #%d: %v", i+1, err)
		}
		s, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary after DeleteStream #%d: %v", i+1, err)
		}
		if st := s.StreamDescriptionSummary.StreamStatus; st != types.StreamStatusDeleting {
			t.Fatalf("after DeleteStream #%d the stream is %s, want DELETING", i+1, st)
		}
	}
	poll(t, "the stream to be gone", 20*time.Second, func() bool {
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		var nf *types.ResourceNotFoundException
		return errors.As(err, &nf)
	})
	// The deletion has removed the metadata; the log line of each task
	// that started precedes that.
	started := strings.Count(p.Log(), `msg="stream deletion scheduled" component=kinesis stream=`+name+" ")
	if started != 1 {
		t.Fatalf("%d deletion tasks started for one stream, want 1; server log:\n%s", started, p.Log())
	}
	if log := p.Log(); strings.Contains(log, "level=ERROR") {
		t.Fatalf("server logged errors:\n%s", log)
	}
}
