package connect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"

	"github.com/tributary-data/tributary/internal/backoff"
)

// tolerance applies a connector's errors.* settings, as Kafka's
// RetryWithToleranceOperator does: conversion and transformation
// failures are retried while retriable, then either fail the task
// (errors.tolerance=none) or skip the record (all), logged when
// errors.log.enable and, for sinks, written to the dead letter stream.
type tolerance struct {
	all          bool
	retryTimeout time.Duration // <0: forever
	retryMax     time.Duration
	logErrors    bool
	logMessages  bool
	log          *slog.Logger

	// Dead letter stream (sinks only).
	dlq        string
	dlqHeaders bool
	streams    Streams
	connector  string
	task       int
	ensured    bool
	m          *metrics
}

func newTolerance(props map[string]string, log *slog.Logger, m *metrics, streams Streams, connector string, task int) *tolerance {
	t := &tolerance{
		m:            m,
		all:          strings.EqualFold(setting(props, cfgTolerance, "none"), "all"), // Kafka reads it case-insensitively
		retryTimeout: time.Duration(intSetting(props, cfgRetryTimeout, 0)) * time.Millisecond,
		retryMax:     time.Duration(intSetting(props, cfgRetryDelayMax, 60000)) * time.Millisecond,
		logErrors:    boolSetting(props, cfgLogEnable),
		logMessages:  boolSetting(props, cfgLogMessages),
		log:          log,
		dlq:          setting(props, cfgDLQTopic, ""),
		dlqHeaders:   boolSetting(props, cfgDLQContextHeaders),
		streams:      streams,
		connector:    connector,
		task:         task,
	}
	if intSetting(props, cfgRetryTimeout, 0) < 0 {
		t.retryTimeout = -1
	}
	return t
}

// retry runs op until it succeeds, fails with an error that is not
// retriable, or errors.retry.timeout has passed, backing off
// exponentially from 300 ms up to errors.retry.delay.max.ms, as Kafka
// does.
func (t *tolerance) retry(ctx context.Context, op func() error) error {
	start := time.Now()
	delay := 300 * time.Millisecond
	for {
		err := op()
		var re *RetriableError
		if err == nil || !errors.As(err, &re) {
			return err
		}
		if t.retryTimeout >= 0 && time.Since(start)+delay > t.retryTimeout {
			return err
		}
		if err := backoff.Sleep(ctx, delay+time.Duration(rand.Int64N(int64(delay)/5+1))); err != nil {
			return err
		}
		delay = min(2*delay, t.retryMax)
	}
}

// failed handles a record's conversion or transformation failure in a
// stage. It returns nil when the failure is tolerated (the record is
// skipped), or the error that fails the task.
func (t *tolerance) failed(ctx context.Context, stage string, rec *data.Record, orig *StreamRecord, err error) error {
	if !t.all {
		return fmt.Errorf("tolerance exceeded in error handler: %s: %w", stage, err)
	}
	if t.logErrors {
		attrs := []any{"connector", t.connector, "task", t.task, "stage", stage, "err", err}
		if rec != nil {
			attrs = append(attrs, "topic", rec.Topic)
			if rec.Shard != "" {
				attrs = append(attrs, "shard", rec.Shard, "sequence_number", rec.SequenceNumber)
			}
			if t.logMessages {
				attrs = append(attrs, "key", fmt.Sprint(rec.Key), "value", fmt.Sprint(rec.Value))
			}
		}
		t.log.Error("error encountered in task; the record is skipped (errors.tolerance=all)", attrs...)
	}
	t.m.skipped.WithLabelValues(t.connector, strconv.Itoa(t.task)).Inc()
	if t.dlq != "" && orig != nil {
		if err := t.deadLetter(ctx, stage, rec, *orig, err); err != nil {
			return err
		}
		t.m.deadLetters.WithLabelValues(t.connector, strconv.Itoa(t.task)).Inc()
	}
	return nil
}

// deadLetter writes the original record to the dead letter stream, with
// Kafka's __connect.errors.* context headers when enabled.
func (t *tolerance) deadLetter(ctx context.Context, stage string, rec *data.Record, orig StreamRecord, cause error) error {
	out := StreamRecord{PartitionKey: orig.PartitionKey, Data: orig.Data, Attrs: orig.Attrs}
	if t.dlqHeaders && rec != nil {
		hc, err := newHeaderConverter()
		if err != nil {
			return err
		}
		u, err := (&codec{}).unpack(orig)
		if err != nil {
			u = raw{key: []byte(orig.PartitionKey), value: orig.Data}
		}
		ctxHeaders := []data.Header{}
		for _, kv := range [][2]string{
			{"topic", rec.Topic}, {"partition", rec.Shard}, {"offset", rec.SequenceNumber},
			{"connector.name", t.connector}, {"task.id", strconv.Itoa(t.task)}, {"stage", stage},
			{"exception.class.name", fmt.Sprintf("%T", cause)}, {"exception.message", cause.Error()},
		} {
			ctxHeaders = append(ctxHeaders, data.Header{Key: "__connect.errors." + kv[0], Schema: data.Primitive(data.TypeString), Value: kv[1]})
		}
		extra, err := convertHeaders(hc, rec.Topic, ctxHeaders)
		if err != nil {
			return err
		}
		out.Attrs = packAttrs(u.key, orig.PartitionKey, u.value == nil, u.time, append(u.headers, extra...))
	}
	if !t.ensured {
		if err := t.streams.EnsureStream(ctx, t.dlq, 1); err != nil {
			return fmt.Errorf("dead letter stream %s: %w", t.dlq, err)
		}
		t.ensured = true
	}
	return putWithRetry(ctx, t.streams, t.dlq, []StreamRecord{out})
}

// putWithRetry writes records to a stream, retrying failures the stream
// layer marks retriable (throughput limits, a stream being resharded)
// until ctx ends; other failures are returned.
func putWithRetry(ctx context.Context, s Streams, stream string, recs []StreamRecord) error {
	delay := 50 * time.Millisecond
	for {
		err := s.Put(ctx, stream, recs)
		var re *RetriableError
		if err == nil || !errors.As(err, &re) {
			return err
		}
		if err := backoff.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, 2*time.Second)
	}
}
