package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/store"
)

// Data-plane actions: writing records and reading them back.

const (
	maxRecordBytes     = maxRecordSizeLimitKiB << 10 // data, on a stream that allows the most
	maxPutRecordsBytes = 5 << 20                     // one PutRecords request, unless one record is larger
	maxGetRecordsBytes = 10 << 20                    // one GetRecords response
	maxGetRecordsCount = 10000
	// fetchBytes bounds one read from the store, and maxFetchMessages the
	// messages it asks for; GetRecords makes several fetches when needed.
	fetchBytes          = 4 << 20
	maxFetchMessages    = 1024
	hashKeyPattern      = `0|([1-9]\d{0,38})`
	sequencePattern     = `0|([1-9]\d{0,128})`
	putRecordsEntryName = "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310"
)

var (
	hashKeyRE  = regexp.MustCompile(`^(0|([1-9]\d{0,38}))$`)
	sequenceRE = regexp.MustCompile(`^(0|([1-9]\d{0,128}))$`)
)

func renderBlob(b []byte) string {
	return fmt.Sprintf("'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]'", len(b), len(b))
}

// checkRecord validates one record's members under prefix.
//
// On an AUTO-distribution stream the partition key is optional (AWS
// ignores it); autoKeys says so, and a missing key is then left alone.
func checkRecord(v *validation, prefix string, pk *Str, ehk *Str, data *Blob, autoKeys bool) {
	if pk == nil && autoKeys {
		// nothing to check
	} else if v.notNull(prefix+"partitionKey", pk != nil) {
		v.lenRange(prefix+"partitionKey", string(*pk), 1, 256)
	}
	if ehk != nil {
		v.pattern(prefix+"explicitHashKey", string(*ehk), hashKeyPattern, hashKeyRE.MatchString(string(*ehk)))
	}
	if v.notNull(prefix+"data", data != nil) && len(*data) > maxRecordBytes {
		v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%sdata' failed to satisfy constraint: Member must have length less than or equal to %d", renderBlob(*data), prefix, maxRecordBytes))
	}
}

// place checks one record against its stream's limits and picks the open
// shard it goes to: by hash key, or, on an AUTO stream, round robin. prefix
// names the record in messages ("" or "records.N.member.").
func (s *Service) place(e *cached, prefix, pk string, ehk *Str, data []byte) (int, *Error) {
	m := e.meta
	limit := max(m.MaxRecordSizeKiB, 1024) << 10
	if len(data) > limit {
		return 0, newError("ValidationException", 400, "1 validation error detected: Value %s at '%sdata' failed to satisfy constraint: Member must have length less than or equal to %d", renderBlob(data), prefix, limit)
	}
	if len(data)+len(pk) > limit {
		return 0, errInvalidArgument("Record size (data and partition key) of %d bytes exceeds the maximum record size of %d KiB of stream %s.", len(data)+len(pk), limit>>10, m.Name)
	}
	if m.Distribution == distributionAuto {
		ix := e.routing.indexes
		return ix[int(s.autoNext.Add(1)%uint64(len(ix)))], nil
	}
	k, aerr := hashKeyFor(pk, ehk)
	if aerr != nil {
		return 0, aerr
	}
	sh, ok := e.routing.route(k)
	if !ok {
		return 0, errInternal(fmt.Errorf("no open shard of %s owns hash key %s", m.Name, k))
	}
	return sh, nil
}

// autoDistributed reports whether a put names an existing stream with the
// AUTO record distribution strategy, where partition keys are optional.
// It is looked up before validation only to decide that.
func (s *Service) autoDistributed(c caller, name, arn *Str) bool {
	if name == nil && arn == nil {
		return false
	}
	_, e, aerr := s.findStream(c, name, arn)
	return aerr == nil && e.meta.Distribution == distributionAuto
}

// partitionKey returns a record's partition key. Only an AUTO stream may
// go without one; the stream may have changed strategy since validation.
func partitionKey(m *streamMeta, prefix string, pk *Str) (string, *Error) {
	if pk != nil {
		return string(*pk), nil
	}
	if m.Distribution == distributionAuto {
		return "", nil
	}
	var v validation
	v.notNull(prefix+"partitionKey", false)
	return "", v.err()
}

// errDryRun answers a DryRun request that would have succeeded.
func errDryRun() *Error {
	return newError("DryRunOperationException", 400, "Request would have succeeded, but DryRun flag is set.")
}

// hashKeyFor is the hash key a record routes by.
func hashKeyFor(pk string, ehk *Str) (shard.HashKey, *Error) {
	if ehk == nil {
		return shard.HashPartitionKey(pk), nil
	}
	k, err := shard.ParseHashKey(string(*ehk))
	if err != nil {
		return k, errInvalidArgument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", *ehk)
	}
	return k, nil
}

// writable returns the stream a put goes to. AWS answers puts to a stream
// that is not ACTIVE or UPDATING as if it did not exist.
//
// The stream comes back locked against resharding until release is
// called, so that no record is appended to a shard after a reshard has
// closed it; the metadata is read after taking the lock for the same
// reason.
func (s *Service) writable(c caller, name, arn *Str) (ref streamRef, e *cached, release func(), aerr *Error) {
	ref, aerr = c.resolve(name, arn)
	if aerr != nil {
		return ref, nil, nil, aerr
	}
	mu := s.streamLock(ref.key())
	mu.RLock()
	e, aerr = s.lookup(ref)
	if aerr != nil {
		mu.RUnlock()
		return ref, nil, nil, aerr
	}
	if st := e.meta.effectiveStatus(time.Now()); st != statusActive && st != statusUpdating {
		mu.RUnlock()
		return ref, nil, nil, streamNotFound(ref.name, ref.account)
	}
	return ref, e, mu.RUnlock, nil
}

// putResult is where one record landed.
type putResult struct {
	shardIndex int
	seq        string
	err        *Error
}

// put stores records (already validated and routed) and returns their
// sequence numbers in input order. Records for one shard go in one log
// message: one storage write, and with sync durability one fsync, per
// shard per request.
func (s *Service) put(ctx context.Context, e *cached, recs []batchRecord, shards []int) []putResult {
	m := e.meta
	type group struct {
		shard int
		idx   []int // positions in recs
		p     store.Pending
	}
	var groups []*group
	byShard := map[int]*group{}
	for i, sh := range shards {
		g := byShard[sh]
		if g == nil {
			g = &group{shard: sh}
			byShard[sh] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, i)
	}
	arrival := time.Now()
	for _, g := range groups {
		batch := make([]batchRecord, len(g.idx))
		for j, i := range g.idx {
			batch[j] = recs[i]
		}
		payload := encodeBatch(arrival, batch)
		if m.KeyID != "" {
			sealed, err := s.keys.seal(m.KeyID, payload)
			if err != nil {
				g.p = store.FailedAppend(fmt.Errorf("seal records: %w", err))
				continue
			}
			payload = sealed
		}
		g.p = s.st.AppendAsync(m.logName(g.shard), payload)
	}
	out := make([]putResult, len(recs))
	now := arrival.Unix()
	for _, g := range groups {
		msgSeq, err := g.p.Wait(ctx)
		if err != nil {
			s.logStoreError("storing records", err, "stream", m.Name, "shard", g.shard, "records", len(g.idx))
		} else {
			s.appended.fire(m.logName(g.shard))
		}
		sh := &m.Shards[g.shard]
		for j, i := range g.idx {
			out[i].shardIndex = g.shard
			if err != nil {
				out[i].err = &Error{Type: "InternalFailure", Message: "Internal service failure.", cause: err}
				continue
			}
			out[i].seq = sh.seqNumber(msgSeq, j, now)
		}
	}
	s.metrics.stored(m, recs, shards, out)
	return out
}

type putRecordInput struct {
	StreamName                *Str  `json:"StreamName"`
	StreamARN                 *Str  `json:"StreamARN"`
	PartitionKey              *Str  `json:"PartitionKey"`
	Data                      *Blob `json:"Data"`
	ExplicitHashKey           *Str  `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *Str  `json:"SequenceNumberForOrdering"`
	DryRun                    *Bool `json:"DryRun"`
}

type putRecordOutput struct {
	ShardId        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType"`
}

func (s *Service) putRecord(ctx context.Context, c caller, in *putRecordInput) (any, *Error) {
	var v validation
	if in.SequenceNumberForOrdering != nil {
		sq := string(*in.SequenceNumberForOrdering)
		v.pattern("sequenceNumberForOrdering", sq, sequencePattern, sequenceRE.MatchString(sq))
	}
	autoKeys := in.PartitionKey == nil && s.autoDistributed(c, in.StreamName, in.StreamARN)
	checkRecord(&v, "", in.PartitionKey, in.ExplicitHashKey, in.Data, autoKeys)
	checkStreamName(&v, in.StreamName, in.StreamARN, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	ref, e, release, aerr := s.writable(c, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	defer release()
	pk, aerr := partitionKey(e.meta, "", in.PartitionKey)
	if aerr != nil {
		return nil, aerr
	}
	sh, aerr := s.place(e, "", pk, in.ExplicitHashKey, *in.Data)
	if aerr != nil {
		return nil, aerr
	}
	if in.SequenceNumberForOrdering != nil {
		if _, ok := decodeSequence(string(*in.SequenceNumberForOrdering), true); !ok {
			return nil, errInvalidArgument("ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.", *in.SequenceNumberForOrdering, ref.name, ref.account)
		}
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	if !s.allowWrite(e.meta, sh, len(*in.Data)+len(pk)) {
		s.metrics.writeExceeded.WithLabelValues(shardLabels(e.meta, sh)...).Inc()
		return nil, rateExceeded(e.meta, sh)
	}
	start := time.Now()
	res := s.put(ctx, e, []batchRecord{{pk, *in.Data, nil}}, []int{sh})[0]
	if res.err != nil {
		return nil, errInternal(res.err)
	}
	sl := streamLabels(e.meta)
	s.metrics.putRecordSuccess.WithLabelValues(sl...).Inc()
	s.metrics.putRecordLatency.WithLabelValues(sl...).Observe(since(start))
	return putRecordOutput{shard.ID(res.shardIndex), res.seq, encryptionType(e.meta)}, nil
}

type putRecordsEntry struct {
	PartitionKey    *Str  `json:"PartitionKey"`
	Data            *Blob `json:"Data"`
	ExplicitHashKey *Str  `json:"ExplicitHashKey"`
}

type putRecordsEntries []putRecordsEntry

type putRecordsInput struct {
	StreamName *Str               `json:"StreamName"`
	StreamARN  *Str               `json:"StreamARN"`
	Records    *putRecordsEntries `json:"Records"`
	DryRun     *Bool              `json:"DryRun"`
}

type putRecordsResult struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardId        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int                `json:"FailedRecordCount"`
	Records           []putRecordsResult `json:"Records"`
	EncryptionType    string             `json:"EncryptionType"`
}

func (o putRecordsOutput) appendJSON(b []byte) []byte {
	b = slices.Grow(b, 64+len(o.Records)*110)
	b = append(b, `{"FailedRecordCount":`...)
	b = strconv.AppendInt(b, int64(o.FailedRecordCount), 10)
	b = append(b, `,"Records":[`...)
	for i, r := range o.Records {
		if i > 0 {
			b = append(b, ',')
		}
		if r.ErrorCode != "" {
			b = append(b, `{"ErrorCode":`...)
			b = appendJSONString(b, r.ErrorCode)
			b = append(b, `,"ErrorMessage":`...)
			b = appendJSONString(b, r.ErrorMessage)
		} else {
			b = append(b, `{"SequenceNumber":"`...)
			b = append(b, r.SequenceNumber...)
			b = append(b, `","ShardId":"`...)
			b = append(b, r.ShardId...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, `],"EncryptionType":`...)
	b = appendJSONString(b, o.EncryptionType)
	return append(b, '}')
}

func (s *Service) putRecords(ctx context.Context, c caller, in *putRecordsInput) (any, *Error) {
	var v validation
	autoKeys := false
	if in.Records != nil && slices.ContainsFunc(*in.Records, func(e putRecordsEntry) bool { return e.PartitionKey == nil }) {
		// Only a record without a key needs to know the stream's strategy.
		autoKeys = s.autoDistributed(c, in.StreamName, in.StreamARN)
	}
	if v.notNull("records", in.Records != nil) {
		recs := *in.Records
		if len(recs) < 1 || len(recs) > 500 {
			v.length("records", quote("["+strings.TrimSuffix(strings.Repeat(putRecordsEntryName+", ", len(recs)), ", ")+"]"), len(recs), 1, 500)
		}
		for i := range recs {
			r := &recs[i]
			checkRecord(&v, "records."+strconv.Itoa(i+1)+".member.", r.PartitionKey, r.ExplicitHashKey, r.Data, autoKeys)
			if len(v.msgs) >= maxValidationErrors {
				break
			}
		}
	}
	checkStreamName(&v, in.StreamName, in.StreamARN, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	_, e, release, aerr := s.writable(c, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	defer release()
	entries := *in.Records
	recs := make([]batchRecord, len(entries))
	shards := make([]int, len(entries))
	total, largest := 0, 0
	for i := range entries {
		r := &entries[i]
		prefix := "records." + strconv.Itoa(i+1) + ".member."
		pk, aerr := partitionKey(e.meta, prefix, r.PartitionKey)
		if aerr != nil {
			return nil, aerr
		}
		total += len(*r.Data) + len(pk)
		largest = max(largest, len(*r.Data)+len(pk))
		sh, aerr := s.place(e, prefix, pk, r.ExplicitHashKey, *r.Data)
		if aerr != nil {
			return nil, aerr
		}
		recs[i] = batchRecord{pk, *r.Data, nil}
		shards[i] = sh
	}
	if total > max(maxPutRecordsBytes, largest) {
		return nil, errInvalidArgument("Records size exceeds 5 MB limit")
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	// Entries over their shard's throughput limit fail one by one; the
	// rest are stored.
	out := putRecordsOutput{Records: make([]putRecordsResult, len(recs)), EncryptionType: encryptionType(e.meta)}
	var admitted []int
	for i := range recs {
		if !s.allowWrite(e.meta, shards[i], len(recs[i].Data)+len(recs[i].PartitionKey)) {
			s.metrics.writeExceeded.WithLabelValues(shardLabels(e.meta, shards[i])...).Inc()
			aerr := rateExceeded(e.meta, shards[i])
			out.Records[i] = putRecordsResult{ErrorCode: aerr.Type, ErrorMessage: aerr.Message}
			out.FailedRecordCount++
			continue
		}
		admitted = append(admitted, i)
	}
	if len(admitted) < len(recs) {
		sub := make([]batchRecord, len(admitted))
		subShards := make([]int, len(admitted))
		for j, i := range admitted {
			sub[j], subShards[j] = recs[i], shards[i]
		}
		recs, shards = sub, subShards
	}
	start := time.Now()
	throttled := out.FailedRecordCount
	results := s.put(ctx, e, recs, shards)
	defer func() {
		sl := streamLabels(e.meta)
		mt := s.metrics
		mt.putRecordsAll.WithLabelValues(sl...).Add(float64(len(out.Records)))
		mt.putRecordsThrottled.WithLabelValues(sl...).Add(float64(throttled))
		mt.putRecordsFailed.WithLabelValues(sl...).Add(float64(out.FailedRecordCount - throttled))
		mt.putRecordsRecords.WithLabelValues(sl...).Add(float64(len(out.Records) - out.FailedRecordCount))
		stored := 0
		for j, r := range results {
			if r.err == nil {
				stored += len(recs[j].Data) + len(recs[j].PartitionKey)
			}
		}
		mt.putRecordsBytes.WithLabelValues(sl...).Add(float64(stored))
		if out.FailedRecordCount < len(out.Records) {
			mt.putRecordsSuccess.WithLabelValues(sl...).Inc()
		}
		mt.putRecordsLatency.WithLabelValues(sl...).Observe(since(start))
	}()
	for j, r := range results {
		i := j
		if admitted != nil {
			i = admitted[j]
		}
		if r.err != nil {
			out.FailedRecordCount++
			out.Records[i] = putRecordsResult{ErrorCode: r.err.Type, ErrorMessage: r.err.Message}
			continue
		}
		out.Records[i] = putRecordsResult{SequenceNumber: r.seq, ShardId: shard.ID(r.shardIndex)}
	}
	return out, nil
}

// decodeSequence decodes a sequence number a client sends back to us
// (GetShardIterator's StartingSequenceNumber, SubscribeToShard's starting
// position, PutRecord's SequenceNumberForOrdering), once it has passed the
// SequenceNumber pattern: it must have the layout of a number this server
// issues. A number for ordering must also not come from the future, since
// it names a record already written.
func decodeSequence(str string, written bool) (shard.Sequence, bool) {
	sq, err := shard.ParseSequence(str)
	if err != nil || (written && sq.RecordTime > time.Now().Unix()+1) {
		return sq, false
	}
	return sq, true
}

type getShardIteratorInput struct {
	StreamName             *Str       `json:"StreamName"`
	StreamARN              *Str       `json:"StreamARN"`
	ShardId                *Str       `json:"ShardId"`
	ShardIteratorType      *Str       `json:"ShardIteratorType"`
	StartingSequenceNumber *Str       `json:"StartingSequenceNumber"`
	Timestamp              *Timestamp `json:"Timestamp"`
	DryRun                 *Bool      `json:"DryRun"`
}

var iteratorTypes = []string{"AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"}

func (s *Service) getShardIterator(ctx context.Context, c caller, in *getShardIteratorInput) (any, *Error) {
	var v validation
	if v.notNull("shardId", in.ShardId != nil) {
		checkName(&v, "shardId", in.ShardId)
	}
	if v.notNull("shardIteratorType", in.ShardIteratorType != nil) {
		v.enum("shardIteratorType", string(*in.ShardIteratorType), iteratorTypes...)
	}
	if in.StartingSequenceNumber != nil {
		sq := string(*in.StartingSequenceNumber)
		v.pattern("startingSequenceNumber", sq, sequencePattern, sequenceRE.MatchString(sq))
	}
	checkStreamName(&v, in.StreamName, in.StreamARN, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	ref, aerr := c.resolve(in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	_, it, aerr := s.startPosition(ctx, ref, string(*in.ShardId), string(*in.ShardIteratorType), in.StartingSequenceNumber, in.Timestamp)
	if aerr != nil {
		return nil, aerr
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	return struct {
		ShardIterator string `json:"ShardIterator"`
	}{s.iters.seal(it)}, nil
}

// startPosition resolves where a reader starts in a shard: the shard (by
// the id forms AWS accepts) and a position of the given iterator type.
// GetShardIterator and SubscribeToShard's StartingPosition share it.
//
// As on AWS, an unknown stream is reported before anything about the
// shard, and a shard that is not found is named as the caller wrote it.
func (s *Service) startPosition(ctx context.Context, ref streamRef, shardIDIn, typ string, startSeq *Str, ts *Timestamp) (e *cached, it iterator, aerr *Error) {
	e, aerr = s.lookup(ref)
	if aerr != nil {
		return nil, it, aerr
	}
	idx, ok := shard.ParseID(shardIDIn)
	if !ok {
		return nil, it, errResourceNotFound("Could not find shard %s in stream %s under account %s.", shardIDIn, ref.name, ref.account)
	}
	shardID := shard.ID(idx)
	m := e.meta
	if idx >= len(m.Shards) || m.effectiveStatus(time.Now()) == statusCreating {
		return nil, it, errResourceNotFound("Shard %s in stream %s under account %s does not exist", shardIDIn, ref.name, ref.account)
	}
	sh := &m.Shards[idx]
	const either = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and %s StartingSequenceNumber."
	it = iterator{Created: time.Now(), ShardIndex: idx, UID: m.UID, Account: m.Account, Region: m.Region, Stream: m.Name}
	switch typ {
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		if startSeq == nil {
			return nil, it, errInvalidArgument(either, typ, "no")
		}
		str := string(*startSeq)
		sq, ok := decodeSequence(str, false)
		if !ok {
			return nil, it, errInvalidArgument("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid.", str, shardID, ref.name, ref.account)
		}
		if sq.ShardIndex != idx {
			return nil, it, errInvalidArgument("Invalid StartingSequenceNumber. It encodes %s, while it was used in a call to a shard with %s", shard.ID(sq.ShardIndex), shardID)
		}
		msgSeq, i, ok := sh.position(sq, typ == "AFTER_SEQUENCE_NUMBER")
		if !ok {
			return nil, it, errInvalidArgument("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.", str, shardID, ref.name, ref.account)
		}
		it.Seq, it.Index = msgSeq, uint16(i)
	case "TRIM_HORIZON", "LATEST":
		if startSeq != nil {
			return nil, it, errInvalidArgument(either, typ, "also a")
		}
		if typ == "LATEST" {
			st, err := s.st.State(ctx, m.logName(idx))
			if err != nil {
				return nil, it, mapStoreErr(ref, err)
			}
			it.Seq = st.LastSeq + 1
		}
	case "AT_TIMESTAMP":
		if ts == nil {
			return nil, it, errInvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		now := time.Now()
		if ts.After(now) {
			return nil, it, errInvalidArgument("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", ts.UnixMilli(), now.UnixMilli())
		}
		it.AtTime = ts.Time
		if it.AtTime.IsZero() || it.AtTime.UnixMilli() == 0 {
			it.AtTime = time.UnixMilli(1)
		}
	}
	return e, it, nil
}

type getRecordsInput struct {
	ShardIterator *Str  `json:"ShardIterator"`
	Limit         *Int  `json:"Limit"`
	StreamARN     *Str  `json:"StreamARN"`
	DryRun        *Bool `json:"DryRun"`
}

// javaDate renders a time as Java's Date.toString does, which is how AWS
// prints times in ExpiredIteratorException.
const javaDate = "Mon Jan 02 15:04:05 UTC 2006"

func (s *Service) getRecords(ctx context.Context, c caller, in *getRecordsInput) (any, *Error) {
	var v validation
	if in.Limit != nil {
		v.intRange("limit", int64(*in.Limit), 1, maxGetRecordsCount)
	}
	if v.notNull("shardIterator", in.ShardIterator != nil) {
		v.lenRange("shardIterator", string(*in.ShardIterator), 1, 512)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	it, err := s.iters.open(string(*in.ShardIterator))
	if err != nil {
		return nil, errInvalidArgument("Invalid ShardIterator.")
	}
	now := time.Now()
	if now.Sub(it.Created) > iteratorTTL {
		return nil, errExpiredIterator("Iterator expired. The iterator was created at time %s while right now it is %s which is further in the future than the tolerated delay of %d milliseconds.",
			it.Created.UTC().Format(javaDate), now.UTC().Format(javaDate), iteratorTTL.Milliseconds())
	}
	ref := streamRef{it.Account, it.Region, it.Stream}
	noShard := errResourceNotFound("Shard %s in stream %s under account %s does not exist", shard.ID(it.ShardIndex), it.Stream, it.Account)
	e, aerr := s.lookup(ref)
	if aerr != nil || e.meta.UID != it.UID || it.ShardIndex >= len(e.meta.Shards) {
		return nil, noShard
	}
	if it.Created.Before(s.began) {
		it.Seq, it.Index = e.meta.Shards[it.ShardIndex].resumeAt(it.Seq, it.Index, it.Created)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	limit := maxGetRecordsCount
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	if !s.allowRead(e.meta, it.ShardIndex) {
		s.metrics.readExceeded.WithLabelValues(shardLabels(e.meta, it.ShardIndex)...).Inc()
		s.recorded(e.meta)
		return nil, rateExceeded(e.meta, it.ShardIndex)
	}
	start := time.Now()
	out, next, end, aerr := s.readShard(ctx, ref, e, it, limit)
	if aerr != nil {
		return nil, aerr
	}
	s.chargeRead(e.meta, it.ShardIndex, out.bytes())
	sl := streamLabels(e.meta)
	s.metrics.read(e.meta, it.ShardIndex, &out)
	s.metrics.getRecordsSuccess.WithLabelValues(sl...).Inc()
	s.metrics.getRecordsLatency.WithLabelValues(sl...).Observe(since(start))
	s.metrics.getRecordsRecords.WithLabelValues(sl...).Add(float64(len(out.records)))
	s.metrics.getRecordsBytes.WithLabelValues(sl...).Add(float64(out.bytes()))
	s.metrics.iteratorAge.WithLabelValues(shardLabels(e.meta, it.ShardIndex)...).Set(millisToSeconds(out.millisBehind))
	s.recorded(e.meta)
	if !end {
		next.Created = time.Now()
		out.next = s.iters.seal(next)
	}
	return out, nil
}

// readShard reads up to limit records (and at most 10 MiB) of one shard
// from the position in it. It returns them, the position after them, and
// whether that is the end of a closed shard, in which case out also holds
// the ChildShards. GetRecords and SubscribeToShard both read through it.
func (s *Service) readShard(ctx context.Context, ref streamRef, e *cached, it iterator, limit int) (out getRecordsOutput, next iterator, end bool, aerr *Error) {
	var err error
	now := time.Now()
	logName := e.meta.logName(it.ShardIndex)
	sh := &e.meta.Shards[it.ShardIndex]
	next = it
	next.AtTime = time.Time{}
	bytes := 0
	atTip := false
	var lastArrival time.Time
	// Fetch in bounded chunks. How many log messages hold `limit` records
	// is unknown until some are seen (a message holds one request's
	// records for this shard), so the first fetch is small and later ones
	// are sized from the records per message seen so far.
	batch := min(limit, 64)
	msgs := 0
	for first := true; ; first = false {
		var res store.ReadResult
		if first && !it.AtTime.IsZero() {
			res, err = s.st.ReadFromTime(ctx, logName, it.AtTime, batch, fetchBytes)
		} else {
			res, err = s.st.Read(ctx, logName, next.Seq, batch, fetchBytes)
		}
		if err != nil {
			return out, next, false, mapStoreErr(ref, err)
		}
		if first && !it.AtTime.IsZero() && len(res.Messages) == 0 {
			// Nothing at or after the timestamp yet: continue from the tip.
			st, err := s.st.State(ctx, logName)
			if err != nil {
				return out, next, false, mapStoreErr(ref, err)
			}
			next.Seq, next.Index = st.LastSeq+1, 0
		}
		full := false
		for i, msg := range res.Messages {
			msgs++
			if !(first && i == 0 && !it.AtTime.IsZero()) {
				// Messages only leave a log from its front, by age: any other
				// gap is damage.
				s.checkGap(ctx, e.meta, it.ShardIndex, max(next.Seq, 1), msg.Seq, i == 0)
			}
			from := 0
			if msg.Seq == next.Seq {
				from = int(next.Index)
			}
			plain, encrypted, derr := s.keys.open(msg.Data)
			if derr != nil {
				return out, next, false, errInternal(fmt.Errorf("shard %d message %d: %w", it.ShardIndex, msg.Seq, derr))
			}
			arrival, derr := batchArrival(plain)
			if derr != nil {
				return out, next, false, errInternal(fmt.Errorf("shard %d message %d: %w", it.ShardIndex, msg.Seq, derr))
			}
			if arrival.Before(it.AtTime) {
				// JetStream stamps a message a moment after its arrival time;
				// AT_TIMESTAMP must not return records that arrived earlier.
				next.Seq, next.Index = msg.Seq+1, 0
				continue
			}
			_, derr = decodeBatch(plain, from, func(i int, pk string, data, attrs []byte) bool {
				if len(out.records) == limit || (len(out.records) > 0 && bytes+len(data) > maxGetRecordsBytes) {
					full = true
					next.Seq, next.Index = msg.Seq, uint16(i)
					return false
				}
				bytes += len(data)
				out.records = append(out.records, outRecord{
					seq:     sh.seqNumber(msg.Seq, i, arrival.Unix()),
					arrival: arrival, pk: pk, data: data, attrs: attrs, encrypted: encrypted,
				})
				lastArrival = arrival
				return true
			})
			if derr != nil {
				return out, next, false, errInternal(fmt.Errorf("shard %d message %d: %w", it.ShardIndex, msg.Seq, derr))
			}
			if full {
				break
			}
			next.Seq, next.Index = msg.Seq+1, 0
		}
		if full {
			break
		}
		// Every message fetched was consumed whole.
		if len(res.Messages) == 0 || res.Pending == 0 {
			atTip = true
			break
		}
		if len(out.records) == limit {
			break
		}
		perMsg := max(1, len(out.records)/max(1, msgs))
		batch = min(maxFetchMessages, (limit-len(out.records))/perMsg+1)
	}
	if !atTip && !lastArrival.IsZero() {
		out.millisBehind = now.Sub(lastArrival).Milliseconds()
		if out.millisBehind < 0 {
			out.millisBehind = 0
		}
	}
	if atTip && e.meta.Shards[it.ShardIndex].EndingSeq != "" {
		// The end of a closed shard: nothing more will ever arrive, so
		// there is no next iterator; the reader moves on to the children.
		out.children = childShards(e.meta, it.ShardIndex)
		return out, next, true, nil
	}
	return out, next, false, nil
}

// childShard is an entry of GetRecords' ChildShards.
type childShard struct {
	ShardId      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
}

// childShards lists the shards that took over from shard idx.
func childShards(m *streamMeta, idx int) []childShard {
	id := shard.ID(idx)
	out := []childShard{}
	for _, sh := range m.Shards {
		if sh.Parent != id && sh.AdjacentParent != id {
			continue
		}
		parents := []string{sh.Parent}
		if sh.AdjacentParent != "" {
			parents = append(parents, sh.AdjacentParent)
		}
		out = append(out, childShard{shard.ID(sh.Index), parents, hashKeyRange{sh.Start, sh.End}})
	}
	return out
}

type outRecord struct {
	seq       string
	arrival   time.Time
	pk        string
	data      []byte
	attrs     []byte // Connect metadata (batch.go); never on the wire
	encrypted bool   // stored encrypted: reported as EncryptionType KMS
}

// getRecordsOutput encodes itself: GetRecords responses are the largest
// the server writes, and encoding them by hand avoids reflection and a
// copy of every payload.
type getRecordsOutput struct {
	records      []outRecord
	next         string // empty at the end of a closed shard
	millisBehind int64
	children     []childShard // set only at the end of a closed shard
}

func (o getRecordsOutput) appendJSON(b []byte) []byte {
	n := 64 + len(o.next)
	for _, r := range o.records {
		n += 140 + len(r.pk)*2 + base64.StdEncoding.EncodedLen(len(r.data))
	}
	b = slices.Grow(b, n)
	b = append(b, `{"Records":`...)
	b = o.appendRecords(b)
	b = append(b, `,"MillisBehindLatest":`...)
	b = strconv.AppendInt(b, o.millisBehind, 10)
	if o.next != "" {
		b = append(b, `,"NextShardIterator":"`...)
		b = append(b, o.next...)
		b = append(b, '"')
	}
	if o.children != nil {
		cb, _ := json.Marshal(o.children)
		b = append(b, `,"ChildShards":`...)
		b = append(b, cb...)
	}
	return append(b, '}')
}

// bytes is the data size of the records, what read limits count.
func (o getRecordsOutput) bytes() int {
	n := 0
	for _, r := range o.records {
		n += len(r.data)
	}
	return n
}

// appendRecords encodes the records as a JSON array, for GetRecords and
// for SubscribeToShard events alike.
func (o getRecordsOutput) appendRecords(b []byte) []byte {
	b = append(b, '[')
	for i, r := range o.records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"SequenceNumber":"`...)
		b = append(b, r.seq...)
		b = append(b, `","ApproximateArrivalTimestamp":`...)
		b = appendEpoch(b, r.arrival)
		b = append(b, `,"Data":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.data)
		b = append(b, `","PartitionKey":`...)
		b = appendJSONString(b, r.pk)
		if r.encrypted {
			b = append(b, `,"EncryptionType":"KMS"`...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string, taking the fast path for
// the common case of plain printable ASCII.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
