// Package bench measures Kinesis put and get throughput through
// aws-sdk-go-v2, the client most Go users have, against any endpoint. The
// same workload runs against Tributary and against kinesalite so results
// are ratios on the same machine rather than absolute numbers that mean
// little elsewhere.
package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/sdkclient"
)

// Workload describes what one run does.
type Workload struct {
	Producers      int // concurrent PutRecords callers
	Shards         int
	CallsPerWriter int // timed PutRecords calls per producer
	// WarmupCalls are PutRecords calls per producer made before timing
	// starts, so connection set-up and the first writes' allocation are
	// not measured. Their records are read back with the rest.
	WarmupCalls    int
	RecordsPerCall int
	RecordSize     int // bytes of data per record
}

// Result is what one run measured.
type Result struct {
	Target         string
	Records        int
	PutElapsed     time.Duration
	PutPerSec      float64
	PutP50, PutP99 time.Duration
	GetElapsed     time.Duration
	GetPerSec      float64
	GetP50, GetP99 time.Duration
}

// Run creates a stream through the first of endpoints, fills it from
// w.Producers goroutines, then reads every shard back from TRIM_HORIZON
// and checks that every record arrived. Several endpoints are the nodes
// of one cluster: producer p writes through endpoint p modulo their
// number, and the reader of shard i reads through endpoint i modulo it,
// so every node serves its share of both. progress receives a line per
// phase.
func Run(ctx context.Context, target string, endpoints []string, w Workload, progress io.Writer) (Result, error) {
	if len(endpoints) == 0 {
		return Result{}, errors.New("bench: no endpoint")
	}
	clients := make([]*kinesis.Client, len(endpoints))
	for i, e := range endpoints {
		clients[i] = sdkclient.New(e, "us-east-1", "bench")
	}
	client := func(i int) *kinesis.Client { return clients[i%len(clients)] }
	c := clients[0]
	name := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(int32(w.Shards))}); err != nil {
		return Result{}, fmt.Errorf("%s: create stream: %w", target, err)
	}
	// Every node must know the stream before the timed writes go to it.
	if err := waitActiveAll(ctx, clients, name); err != nil {
		return Result{}, fmt.Errorf("%s: %w", target, err)
	}
	res := Result{Target: target, Records: w.Producers * w.CallsPerWriter * w.RecordsPerCall}
	total := w.Producers * (w.WarmupCalls + w.CallsPerWriter) * w.RecordsPerCall

	// Put phase: warm-up calls, then (once every producer is warm) the
	// timed calls.
	data := make([]byte, w.RecordSize*w.RecordsPerCall)
	_, _ = rand.Read(data)
	lat := make([][]time.Duration, w.Producers)
	errc := make(chan error, w.Producers)
	var wg, warm sync.WaitGroup
	warm.Add(w.Producers)
	startc := make(chan struct{})
	var start time.Time
	for p := range w.Producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(p)
			entries := make([]types.PutRecordsRequestEntry, w.RecordsPerCall)
			for call := range w.WarmupCalls + w.CallsPerWriter {
				if call == w.WarmupCalls {
					warm.Done()
					<-startc
				}
				for i := range entries {
					entries[i] = types.PutRecordsRequestEntry{
						PartitionKey: aws.String(strconv.Itoa(p) + "-" + strconv.Itoa(call) + "-" + strconv.Itoa(i)),
						Data:         data[i*w.RecordSize : (i+1)*w.RecordSize],
					}
				}
				t0 := time.Now()
				out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &name, Records: entries})
				if call >= w.WarmupCalls {
					lat[p] = append(lat[p], time.Since(t0))
				}
				if err != nil {
					if call < w.WarmupCalls {
						warm.Done()
					}
					errc <- fmt.Errorf("put: %w", err)
					return
				}
				if n := aws.ToInt32(out.FailedRecordCount); n > 0 {
					errc <- fmt.Errorf("put: %d records failed", n)
					return
				}
			}
		}()
	}
	warm.Wait()
	start = time.Now()
	close(startc)
	wg.Wait()
	res.PutElapsed = time.Since(start)
	select {
	case err := <-errc:
		return res, fmt.Errorf("%s: %w", target, err)
	default:
	}
	res.PutPerSec = float64(res.Records) / res.PutElapsed.Seconds()
	res.PutP50, res.PutP99 = percentiles(slices.Concat(lat...))
	fmt.Fprintf(progress, "%s: put %d records in %v (%.0f records/s, p99 %v)\n", target, res.Records, res.PutElapsed.Round(time.Millisecond), res.PutPerSec, res.PutP99)

	// Get phase: one reader per shard, from the oldest record to the tip.
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: &name})
	if err != nil {
		return res, fmt.Errorf("%s: list shards: %w", target, err)
	}
	glat := make([][]time.Duration, len(shards.Shards))
	counts := make([]int, len(shards.Shards))
	errc = make(chan error, len(shards.Shards))
	start = time.Now()
	for i, sh := range shards.Shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client(i)
			it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
				StreamName: &name, ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				errc <- fmt.Errorf("get iterator: %w", err)
				return
			}
			iter := it.ShardIterator
			for iter != nil {
				t0 := time.Now()
				out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
				glat[i] = append(glat[i], time.Since(t0))
				if err != nil {
					errc <- fmt.Errorf("get records: %w", err)
					return
				}
				counts[i] += len(out.Records)
				if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
					return
				}
				iter = out.NextShardIterator
			}
		}()
	}
	wg.Wait()
	res.GetElapsed = time.Since(start)
	select {
	case err := <-errc:
		return res, fmt.Errorf("%s: %w", target, err)
	default:
	}
	read := 0
	for _, n := range counts {
		read += n
	}
	if read != total {
		return res, fmt.Errorf("%s: read %d records back, put %d", target, read, total)
	}
	res.GetPerSec = float64(read) / res.GetElapsed.Seconds()
	res.GetP50, res.GetP99 = percentiles(slices.Concat(glat...))
	fmt.Fprintf(progress, "%s: got %d records in %v (%.0f records/s, p99 %v)\n", target, read, res.GetElapsed.Round(time.Millisecond), res.GetPerSec, res.GetP99)

	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: &name}); err != nil {
		return res, fmt.Errorf("%s: delete stream: %w", target, err)
	}
	return res, nil
}

// activeTimeout bounds the wait for a new stream to be ACTIVE on every
// node.
const activeTimeout = time.Minute

// waitActiveAll waits until every client's endpoint sees the stream
// ACTIVE, for at most activeTimeout.
func waitActiveAll(ctx context.Context, clients []*kinesis.Client, name string) error {
	ctx, cancel := context.WithTimeout(ctx, activeTimeout)
	defer cancel()
	for i, c := range clients {
		if err := waitActive(ctx, c, name); err != nil {
			return fmt.Errorf("stream %s on endpoint %d: %w", name, i, err)
		}
	}
	return nil
}

// waitActive waits until the stream is ACTIVE as c's endpoint sees it.
// A node of a cluster may not know of a stream created through another
// for a moment, so ResourceNotFoundException is waited out too.
func waitActive(ctx context.Context, c *kinesis.Client, name string) error {
	for {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
		case err != nil:
			return fmt.Errorf("describe stream: %w", err)
		case out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive:
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
			}
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[len(d)*50/100], d[min(len(d)-1, len(d)*99/100)]
}

// ErrNoKinesalite is returned when the kinesalite executable is missing.
var ErrNoKinesalite = errors.New("kinesalite not found (npm install kinesalite)")

// Process is a server the benchmark started.
type Process struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
}

// StartProcess runs a server command that listens on addr and waits until
// it accepts connections.
func StartProcess(ctx context.Context, addr string, name string, args ...string) (*Process, error) {
	p, err := spawn(ctx, addr, name, args...)
	if err != nil {
		return nil, err
	}
	if err := p.waitListening(addr, 30*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// spawn starts a server command that will listen on addr, without
// waiting for it.
func spawn(ctx context.Context, addr string, name string, args ...string) (*Process, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Endpoint: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// waitListening waits until the process accepts connections on addr,
// stopping it if it does not within timeout.
func (p *Process) waitListening(addr string, timeout time.Duration) error {
	name := p.cmd.Path
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up", name)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("%s did not listen on %s within %v", name, addr, timeout)
		}
	}
}

// Stop terminates the server and waits for it.
func (p *Process) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// FreeAddr returns a free loopback address.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
