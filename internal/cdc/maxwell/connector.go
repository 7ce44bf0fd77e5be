package maxwell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// ConnectorClass is the class name Tributary registers its Maxwell
// source connector under. Maxwell itself has no Kafka Connect connector
// (it is a daemon with its own producers); the name is Tributary's,
// chosen to sit in Maxwell's package.
//
// The connector takes Maxwell's config.properties keys as connector
// settings and runs one task. Each record's topic is the `topic` setting
// or else kinesis_stream; its key is Maxwell's partition key
// (producer_partition_by) and its value Maxwell's JSON, both strings:
// use value.converter=org.apache.kafka.connect.storage.StringConverter
// (Tributary's default) so the stream holds Maxwell's JSON unchanged.
// Offsets are kept by the runtime under the partition
// {"server": client_id} as {"file", "pos", "gtids"}; the schema
// database still holds the bootstrap table.
const ConnectorClass = "com.zendesk.maxwell.MaxwellConnector"

// Connector settings beside Maxwell's.
const (
	// KeyTopic is the stream records go to; kinesis_stream when unset.
	KeyTopic = "topic"
)

// Poll batching.
const (
	pollMax     = 2000
	pollWait    = time.Second
	readyLimit  = 20000
	offsetFile  = "file"
	offsetPos   = "pos"
	offsetGTIDs = "gtids"
)

// NewConnector returns an unstarted Maxwell source connector.
func NewConnector() connect.SourceConnector { return &connector{} }

type connector struct {
	props map[string]string
}

// connectorConfig parses a connector's settings: Maxwell's, without the
// producer (the runtime is the producer), plus the topic.
func connectorConfig(props map[string]string) (*Config, string, error) {
	m := make(map[string]string, len(props))
	for k, v := range props {
		m[k] = v
	}
	m["producer"] = ProducerNone
	cfg, err := ParseConfig(m)
	if err != nil {
		return nil, "", err
	}
	topic := strings.TrimSpace(props[KeyTopic])
	if topic == "" {
		topic = cfg.KinesisStream
	}
	if topic == "" {
		return nil, "", errors.New("set topic or kinesis_stream: the stream Maxwell's rows go to")
	}
	return cfg, topic, nil
}

// Config lists Maxwell's settings that the connector reads: the Maxwell
// and Output groups of the one definition (configDef).
func (c *connector) Config() connect.ConfigDef { return connectorDef() }

// ValidateConfig reports Maxwell's configuration errors but those of
// single settings in Config, which the runtime reports itself from the
// definition.
func (c *connector) ValidateConfig(props map[string]string) map[string][]string {
	_, _, err := connectorConfig(props)
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	def := connectorDef()
	var rest []error
	for _, e := range errs {
		var se *settingError
		if errors.As(e, &se) {
			if _, ok := def.Lookup(se.Key); ok {
				continue
			}
		}
		rest = append(rest, e)
	}
	if len(rest) == 0 {
		return nil
	}
	return map[string][]string{"maxwell": {errors.Join(rest...).Error()}}
}

// Start checks the configuration.
func (c *connector) Start(_ context.Context, props map[string]string) error {
	if _, _, err := connectorConfig(props); err != nil {
		return fmt.Errorf("maxwell connector: %w", err)
	}
	c.props = make(map[string]string, len(props))
	for k, v := range props {
		c.props[k] = v
	}
	return nil
}

// TaskConfigs returns one task: a binlog has one reader.
func (c *connector) TaskConfigs(int) ([]map[string]string, error) {
	if c.props == nil {
		return nil, errors.New("maxwell connector: not started")
	}
	return []map[string]string{c.props}, nil
}

// Stop implements connect.Connector.
func (c *connector) Stop() error { return nil }

// Task returns an unstarted task.
func (c *connector) Task() connect.SourceTask { return &task{} }

// task runs the engine in a goroutine and hands its rows to Poll.
type task struct {
	q      *recordQueue
	cancel context.CancelFunc
	done   chan struct{}
	conns  []*conn
}

// Start resumes from the committed offset (or init_position, or the
// server's current position) and starts reading.
func (t *task) Start(ctx context.Context, props map[string]string, tc connect.SourceTaskContext) error {
	cfg, topic, err := connectorConfig(props)
	if err != nil {
		return fmt.Errorf("maxwell task: %w", err)
	}
	partition := map[string]any{"server": cfg.ClientID}
	var from *cdc.Position
	if tc != nil {
		off, err := tc.Offset(ctx, partition)
		if err != nil {
			return fmt.Errorf("maxwell task: reading the committed offset: %w", err)
		}
		if from, err = positionFromOffset(off); err != nil {
			return fmt.Errorf("maxwell task: committed offset: %w", err)
		}
	}
	if from == nil && cfg.InitPosition != nil {
		p := *cfg.InitPosition
		from = &p
	}
	src := newConn(cfg.ReplicationHost, cfg.ReplicationPort, cfg.ReplicationUser, cfg.ReplicationPassword)
	stateDB := newConn(cfg.Host, cfg.Port, cfg.User, cfg.Password)
	t.conns = []*conn{src, stateDB}
	_, flavor, err := serverInfo(ctx, src)
	if err != nil {
		t.closeConns()
		return fmt.Errorf("maxwell task: %w", err)
	}
	if from != nil {
		from.Flavor = flavor
	}
	store := &stateStore{db: stateDB, schema: quoteIdent(cfg.SchemaDatabase), clientID: cfg.ClientID}
	if cfg.Bootstrapper != "none" {
		if err := store.ensureSchema(ctx); err != nil {
			t.closeConns()
			return fmt.Errorf("maxwell task: %w", err)
		}
	}
	t.q = newRecordQueue(topic, partition, from)
	p := newPipeline(cfg, t.q, charsetLookup(src))
	rctx, cancel := context.WithCancel(context.Background())
	t.cancel, t.done = cancel, make(chan struct{})
	log := connect.Logger(ctx).With("class", ConnectorClass, "client_id", cfg.ClientID)
	var wg sync.WaitGroup
	if cfg.Bootstrapper != "none" {
		p.boot = &bootstrapper{async: cfg.Bootstrapper == "async", store: store, src: src,
			dialSrc: dialStream(cfg.ReplicationHost, cfg.ReplicationPort, cfg.ReplicationUser, cfg.ReplicationPassword),
			enc:     p.enc, out: t.q.direct(), rows: p, log: log, trigger: make(chan struct{}, 1), due: true}
		if p.boot.async {
			wg.Go(func() {
				if err := p.boot.loop(rctx); err != nil {
					t.q.fail(err)
				}
			})
		}
	}
	engineCfg := cfg.engineConfig(p.include, log)
	go func() {
		defer close(t.done)
		err := cdc.Run(rctx, engineCfg, from, p)
		if err != nil && rctx.Err() == nil {
			t.q.fail(fmt.Errorf("maxwell: binlog reader: %w", err))
		}
		cancel()
		wg.Wait()
	}()
	return nil
}

// Poll returns the rows read so far, waiting up to a second for some.
func (t *task) Poll(ctx context.Context) ([]*data.Record, error) {
	if t.q == nil {
		return nil, errors.New("maxwell task: not started")
	}
	return t.q.take(ctx)
}

// Stop stops the reader.
func (t *task) Stop() error {
	if t.cancel != nil {
		t.cancel()
		t.q.wake()
		<-t.done
	}
	t.closeConns()
	return nil
}

func (t *task) closeConns() {
	for _, c := range t.conns {
		c.close()
	}
}

// positionFromOffset reads a committed offset; nil when there is none.
func positionFromOffset(off map[string]any) (*cdc.Position, error) {
	if off == nil {
		return nil, nil
	}
	file, _ := off[offsetFile].(string)
	if file == "" {
		return nil, nil
	}
	p := &cdc.Position{File: file}
	switch v := off[offsetPos].(type) {
	case int64:
		p.Pos = uint32(v)
	case int:
		p.Pos = uint32(v)
	case float64:
		if v < 0 || v > math.MaxUint32 || v != math.Trunc(v) {
			return nil, fmt.Errorf("pos %v is not a binlog position", v)
		}
		p.Pos = uint32(v)
	case json.Number:
		n, err := strconv.ParseUint(v.String(), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("pos %v is not a binlog position", v)
		}
		p.Pos = uint32(n)
	default:
		return nil, fmt.Errorf("pos %v (%T) is not a binlog position", v, v)
	}
	p.GTIDSet, _ = off[offsetGTIDs].(string)
	return p, nil
}

func offsetOf(p cdc.Position) map[string]any {
	m := map[string]any{offsetFile: p.File, offsetPos: int64(p.Pos)}
	if p.GTIDSet != "" {
		m[offsetGTIDs] = p.GTIDSet
	}
	return m
}

// recordQueue is the connector's emitter. Rows of a transaction wait
// until its boundary, then become records: the last carries the
// position after the transaction as its offset, the others the position
// before it, so a committed offset never skips part of a transaction.
type recordQueue struct {
	topic     string
	partition map[string]any

	mu     sync.Mutex
	cond   *sync.Cond
	offset map[string]any // the last boundary's; nil before the first
	tx     []message
	ready  []*data.Record
	err    error
}

func newRecordQueue(topic string, partition map[string]any, from *cdc.Position) *recordQueue {
	q := &recordQueue{topic: topic, partition: partition}
	if from != nil {
		q.offset = offsetOf(*from)
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *recordQueue) record(m message, offset map[string]any) *data.Record {
	r := &data.Record{Topic: q.topic, KeySchema: data.Primitive(data.TypeString), Key: m.key,
		ValueSchema: data.Primitive(data.TypeString), Value: string(m.value), Timestamp: time.Now().Truncate(time.Millisecond)}
	if offset != nil {
		r.SourcePartition, r.SourceOffset = q.partition, offset
	}
	return r
}

// emit holds a transaction's message until the boundary.
func (q *recordQueue) emit(_ context.Context, m message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.tx = append(q.tx, m)
	return nil
}

func (q *recordQueue) boundary(ctx context.Context, pos cdc.Position) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	next := offsetOf(pos)
	for i, m := range q.tx {
		off := q.offset
		if i == len(q.tx)-1 {
			off = next
		}
		if err := q.push(ctx, q.record(m, off)); err != nil {
			return err
		}
	}
	q.tx, q.offset = q.tx[:0], next
	return nil
}

// push adds a record for Poll, waiting while too many are waiting.
// q.mu is held.
func (q *recordQueue) push(ctx context.Context, r *data.Record) error {
	if len(q.ready) >= readyLimit {
		stop := context.AfterFunc(ctx, q.wake)
		defer stop()
	}
	for len(q.ready) >= readyLimit && q.err == nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		q.cond.Wait()
	}
	if q.err != nil {
		return q.err
	}
	q.ready = append(q.ready, r)
	q.cond.Broadcast()
	return nil
}

// direct is the emitter for bootstrap rows, which belong to no
// transaction: they become records at once, with the current offset.
func (q *recordQueue) direct() emitter { return directQueue{q} }

type directQueue struct{ q *recordQueue }

func (d directQueue) emit(ctx context.Context, m message) error {
	d.q.mu.Lock()
	defer d.q.mu.Unlock()
	return d.q.push(ctx, d.q.record(m, d.q.offset))
}

func (d directQueue) boundary(context.Context, cdc.Position) error { return nil }

func (q *recordQueue) fail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err == nil {
		q.err = err
	}
	q.cond.Broadcast()
}

func (q *recordQueue) wake() {
	q.mu.Lock()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// take returns up to pollMax records, waiting up to pollWait for the
// first.
func (q *recordQueue) take(ctx context.Context) ([]*data.Record, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ready) == 0 && q.err == nil {
		wctx, cancel := context.WithTimeout(ctx, pollWait)
		defer cancel()
		stop := context.AfterFunc(wctx, q.wake)
		defer stop()
		for len(q.ready) == 0 && q.err == nil && wctx.Err() == nil {
			q.cond.Wait()
		}
	}
	if len(q.ready) == 0 {
		return nil, q.err
	}
	n := min(len(q.ready), pollMax)
	out := make([]*data.Record, n)
	copy(out, q.ready)
	q.ready = append(q.ready[:0], q.ready[n:]...)
	q.cond.Broadcast()
	return out, nil
}
