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
	"github.com/tributary-data/tributary/internal/streams"
)

// Data-plane actions: writing records and reading them back.

const (
	maxRecordBytes      = maxRecordSizeLimitKiB << 10 // data, on a stream that allows the most
	maxPutRecordsBytes  = 5 << 20                     // one PutRecords request, unless one record is larger
	maxGetRecordsCount  = streams.MaxReadRecords      // one GetRecords response
	hashKeyPattern      = `0|([1-9]\d{0,38})`
	sequencePattern     = `0|([1-9]\d{0,128})`
	putRecordsEntryName = "com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@c965e310"
)

var (
	hashKeyRE  = regexp.MustCompile(`^(0|([1-9]\d{0,38}))$`)
	sequenceRE = regexp.MustCompile(`^(0|([1-9]\d{0,128}))$`)
)

// renderBlobLen renders a blob of n bytes as AWS's validation messages
// show one (Java's ByteBuffer.toString).
func renderBlobLen(n int) string {
	return fmt.Sprintf("'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]'", n, n)
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
		v.msgs = append(v.msgs, fmt.Sprintf("Value %s at '%sdata' failed to satisfy constraint: Member must have length less than or equal to %d", renderBlobLen(len(*data)), prefix, maxRecordBytes))
	}
}

// place checks one record against its stream's limits and picks the open
// shard it goes to (the engine's Place). prefix names the record in
// messages ("" or "records.N.member.").
func (s *Service) place(ref streamRef, e *streams.Stream, prefix, pk string, ehk *Str, data []byte) (int, *Error) {
	sh, err := s.eng.Place(e, pk, (*string)(ehk), len(data))
	if err != nil {
		return 0, placeError(ref, prefix, len(data), err)
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
	return aerr == nil && e.Meta.Distribution == streams.DistributionAuto
}

// partitionKey returns a record's partition key. Only an AUTO stream may
// go without one; the stream may have changed strategy since validation.
func partitionKey(m *streams.Meta, prefix string, pk *Str) (string, *Error) {
	if pk != nil {
		return string(*pk), nil
	}
	if m.Distribution == streams.DistributionAuto {
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

// writable ends a put's validation (v) with its StreamName and StreamARN
// and returns the stream it goes to, locked against resharding
// until release is called (the engine's Writable). AWS answers puts to a
// stream that is not ACTIVE or UPDATING as if it did not exist.
func (s *Service) writable(c caller, v *validation, name, arn *Str) (ref streamRef, e *streams.Stream, release func(), aerr *Error) {
	ref, aerr = validRef(c, v, name, arn)
	if aerr != nil {
		return ref, nil, nil, aerr
	}
	e, release, err := s.eng.Writable(ref.id())
	return ref, e, release, awsError(ref, err)
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
	ref, e, release, aerr := s.writable(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	defer release()
	pk, aerr := partitionKey(e.Meta, "", in.PartitionKey)
	if aerr != nil {
		return nil, aerr
	}
	sh, aerr := s.place(ref, e, "", pk, in.ExplicitHashKey, *in.Data)
	if aerr != nil {
		return nil, aerr
	}
	if in.SequenceNumberForOrdering != nil {
		if _, err := streams.ParseSequence(string(*in.SequenceNumberForOrdering), true); err != nil {
			return nil, errInvalidArgument("ExclusiveMinimumSequenceNumber %s used in PutRecord on stream %s under account %s is invalid.", *in.SequenceNumberForOrdering, ref.name, ref.account)
		}
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	if !s.allowWrite(e.Meta, sh, len(*in.Data)+len(pk)) {
		s.metrics.writeExceeded.WithLabelValues(shardLabels(e.Meta, sh)...).Inc()
		return nil, rateExceeded(e.Meta, sh)
	}
	start := time.Now()
	res := s.eng.Append(ctx, e, []streams.Record{{PartitionKey: pk, Data: *in.Data}}, []int{sh})[0]
	if res.Err != nil {
		return nil, errInternal(putFailure(res.Err))
	}
	sl := streamLabels(e.Meta)
	s.metrics.putRecordSuccess.WithLabelValues(sl...).Inc()
	s.metrics.putRecordLatency.WithLabelValues(sl...).Observe(since(start))
	return putRecordOutput{shard.ID(res.Shard), res.Seq, encryptionType(e.Meta)}, nil
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
	v := s.checkRecords(c, in)
	ref, e, release, aerr := s.writable(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	defer release()
	recs, shards, aerr := s.placeEntries(ref, e, *in.Records)
	if aerr != nil {
		return nil, aerr
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	out := putRecordsOutput{Records: make([]putRecordsResult, len(recs)), EncryptionType: encryptionType(e.Meta)}
	admitted := s.admit(e.Meta, recs, shards, &out)
	if len(admitted) < len(recs) {
		sub := make([]streams.Record, len(admitted))
		subShards := make([]int, len(admitted))
		for j, i := range admitted {
			sub[j], subShards[j] = recs[i], shards[i]
		}
		recs, shards = sub, subShards
	}
	start := time.Now()
	throttled := out.FailedRecordCount
	results := s.eng.Append(ctx, e, recs, shards)
	for j, r := range results {
		i := admitted[j]
		if r.Err != nil {
			out.FailedRecordCount++
			aerr := putFailure(r.Err)
			out.Records[i] = putRecordsResult{ErrorCode: aerr.Type, ErrorMessage: aerr.Message}
			continue
		}
		out.Records[i] = putRecordsResult{SequenceNumber: r.Seq, ShardId: shard.ID(r.Shard)}
	}
	s.countPutRecords(e.Meta, &out, throttled, recs, results, start)
	return out, nil
}

// checkRecords validates a PutRecords request's records as AWS does.
func (s *Service) checkRecords(c caller, in *putRecordsInput) validation {
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
	return v
}

// placeEntries checks each entry against its stream and picks its shard.
func (s *Service) placeEntries(ref streamRef, e *streams.Stream, entries putRecordsEntries) ([]streams.Record, []int, *Error) {
	recs := make([]streams.Record, len(entries))
	shards := make([]int, len(entries))
	total, largest := 0, 0
	for i := range entries {
		r := &entries[i]
		prefix := "records." + strconv.Itoa(i+1) + ".member."
		pk, aerr := partitionKey(e.Meta, prefix, r.PartitionKey)
		if aerr != nil {
			return nil, nil, aerr
		}
		total += len(*r.Data) + len(pk)
		largest = max(largest, len(*r.Data)+len(pk))
		sh, aerr := s.place(ref, e, prefix, pk, r.ExplicitHashKey, *r.Data)
		if aerr != nil {
			return nil, nil, aerr
		}
		recs[i] = streams.Record{PartitionKey: pk, Data: *r.Data}
		shards[i] = sh
	}
	if total > max(maxPutRecordsBytes, largest) {
		return nil, nil, errInvalidArgument("Records size exceeds 5 MB limit")
	}
	return recs, shards, nil
}

// admit applies the shards' throughput limits: entries over them fail one
// by one in out, and admit returns the positions of the rest, which are
// stored.
func (s *Service) admit(m *streams.Meta, recs []streams.Record, shards []int, out *putRecordsOutput) []int {
	admitted := make([]int, 0, len(recs))
	for i := range recs {
		if !s.allowWrite(m, shards[i], len(recs[i].Data)+len(recs[i].PartitionKey)) {
			s.metrics.writeExceeded.WithLabelValues(shardLabels(m, shards[i])...).Inc()
			aerr := rateExceeded(m, shards[i])
			out.Records[i] = putRecordsResult{ErrorCode: aerr.Type, ErrorMessage: aerr.Message}
			out.FailedRecordCount++
			continue
		}
		admitted = append(admitted, i)
	}
	return admitted
}

// countPutRecords updates a PutRecords request's metrics: stored are the
// records admitted and results what became of them.
func (s *Service) countPutRecords(m *streams.Meta, out *putRecordsOutput, throttled int, stored []streams.Record, results []streams.PutResult, start time.Time) {
	sl := streamLabels(m)
	mt := s.metrics
	mt.putRecordsAll.WithLabelValues(sl...).Add(float64(len(out.Records)))
	mt.putRecordsThrottled.WithLabelValues(sl...).Add(float64(throttled))
	mt.putRecordsFailed.WithLabelValues(sl...).Add(float64(out.FailedRecordCount - throttled))
	mt.putRecordsRecords.WithLabelValues(sl...).Add(float64(len(out.Records) - out.FailedRecordCount))
	bytes := 0
	for j, r := range results {
		if r.Err == nil {
			bytes += len(stored[j].Data) + len(stored[j].PartitionKey)
		}
	}
	mt.putRecordsBytes.WithLabelValues(sl...).Add(float64(bytes))
	if out.FailedRecordCount < len(out.Records) {
		mt.putRecordsSuccess.WithLabelValues(sl...).Inc()
	}
	mt.putRecordsLatency.WithLabelValues(sl...).Observe(since(start))
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
	ref, aerr := validRef(c, &v, in.StreamName, in.StreamARN)
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
func (s *Service) startPosition(ctx context.Context, ref streamRef, shardIDIn, typ string, startSeq *Str, ts *Timestamp) (e *streams.Stream, it iterator, aerr *Error) {
	idx, ok := shard.ParseID(shardIDIn)
	e, aerr = s.lookupShard(ctx, ref, idx, "")
	if aerr != nil {
		return nil, it, aerr
	}
	if !ok {
		return nil, it, errResourceNotFound("Could not find shard %s in stream %s under account %s.", shardIDIn, ref.name, ref.account)
	}
	m := e.Meta
	if idx >= len(m.Shards) || m.EffectiveStatus(time.Now()) == streams.StatusCreating {
		return nil, it, errResourceNotFound("Shard %s in stream %s under account %s does not exist", shardIDIn, ref.name, ref.account)
	}
	kind, at, aerr := startKind(typ, startSeq, ts)
	if aerr != nil {
		return nil, it, aerr
	}
	seq := ""
	if startSeq != nil {
		seq = string(*startSeq)
	}
	p, err := s.eng.Start(ctx, m, idx, kind, seq, at)
	if err != nil {
		return nil, it, startError(ref, idx, err)
	}
	return e, iteratorAt(m, p, time.Now()), nil
}

// startKind checks the members of a starting position of an iterator
// type as AWS does, and gives the engine's kind of start.
func startKind(typ string, startSeq *Str, ts *Timestamp) (kind int, at time.Time, aerr *Error) {
	const either = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified %s and %s StartingSequenceNumber."
	switch typ {
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		if startSeq == nil {
			return 0, at, errInvalidArgument(either, typ, "no")
		}
		if typ == "AT_SEQUENCE_NUMBER" {
			return streams.StartAtSequence, at, nil
		}
		return streams.StartAfterSequence, at, nil
	case "TRIM_HORIZON", "LATEST":
		if startSeq != nil {
			return 0, at, errInvalidArgument(either, typ, "also a")
		}
		if typ == "LATEST" {
			return streams.StartLatest, at, nil
		}
		return streams.StartOldest, at, nil
	case "AT_TIMESTAMP":
		if ts == nil {
			return 0, at, errInvalidArgument("Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
		}
		now := time.Now()
		if ts.After(now) {
			return 0, at, errInvalidArgument("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", ts.UnixMilli(), now.UnixMilli())
		}
		return streams.StartAtTime, ts.Time, nil
	}
	return streams.StartOldest, at, nil
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
	e, aerr := s.lookupShard(ctx, ref, it.ShardIndex, it.UID)
	if aerr != nil || e.Meta.UID != it.UID || it.ShardIndex >= len(e.Meta.Shards) {
		return nil, noShard
	}
	it = it.moved(s.eng.Resume(e.Meta, it.position(), it.Created))
	if in.DryRun != nil && *in.DryRun {
		return nil, errDryRun()
	}
	limit := maxGetRecordsCount
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	if !s.allowRead(e.Meta, it.ShardIndex) {
		s.metrics.readExceeded.WithLabelValues(shardLabels(e.Meta, it.ShardIndex)...).Inc()
		s.recorded(e.Meta)
		return nil, rateExceeded(e.Meta, it.ShardIndex)
	}
	start := time.Now()
	out, next, end, aerr := s.readShard(ctx, ref, e, it, limit)
	if aerr != nil {
		return nil, aerr
	}
	s.chargeRead(e.Meta, it.ShardIndex, out.bytes())
	sl := streamLabels(e.Meta)
	s.metrics.read(e.Meta, it.ShardIndex, &out)
	s.metrics.getRecordsSuccess.WithLabelValues(sl...).Inc()
	s.metrics.getRecordsLatency.WithLabelValues(sl...).Observe(since(start))
	s.metrics.getRecordsRecords.WithLabelValues(sl...).Add(float64(len(out.records)))
	s.metrics.getRecordsBytes.WithLabelValues(sl...).Add(float64(out.bytes()))
	s.metrics.iteratorAge.WithLabelValues(shardLabels(e.Meta, it.ShardIndex)...).Set(millisToSeconds(out.millisBehind))
	s.recorded(e.Meta)
	if !end {
		next.Created = time.Now()
		out.next = s.iters.seal(next)
	}
	return out, nil
}

// readShard reads up to limit records (and at most 10 MiB) of one shard
// from the position in it (the engine's Read). It returns them, the
// position after them, and whether that is the end of a closed shard, in
// which case out also holds the ChildShards. GetRecords and
// SubscribeToShard both read through it.
func (s *Service) readShard(ctx context.Context, ref streamRef, e *streams.Stream, it iterator, limit int) (out getRecordsOutput, next iterator, end bool, aerr *Error) {
	b, p, err := s.eng.Read(ctx, e, it.position(), limit)
	next = it.moved(p)
	if err != nil {
		return out, next, false, awsError(ref, err)
	}
	out.records = b.Records
	out.millisBehind = b.MillisBehind
	if b.End {
		out.children = childShards(b.Children)
	}
	return out, next, b.End, nil
}

// childShard is an entry of GetRecords' ChildShards.
type childShard struct {
	ShardId      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
}

// childShards lists the shards that took over from a closed one.
func childShards(children []streams.Child) []childShard {
	out := make([]childShard, len(children))
	for i, c := range children {
		out[i] = childShard{shard.ID(c.Shard), c.Parents, hashKeyRange{c.Start, c.End}}
	}
	return out
}

// outRecord is a record read, as the engine returns it.
type outRecord = streams.ReadRecord

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
		n += 140 + len(r.PartitionKey)*2 + base64.StdEncoding.EncodedLen(len(r.Data))
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
		n += len(r.Data)
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
		b = append(b, r.Seq...)
		b = append(b, `","ApproximateArrivalTimestamp":`...)
		b = appendEpoch(b, r.Arrival)
		b = append(b, `,"Data":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Data)
		b = append(b, `","PartitionKey":`...)
		b = appendJSONString(b, r.PartitionKey)
		if r.Encrypted {
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
