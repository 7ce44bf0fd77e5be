package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/tributary-data/tributary/internal/shard"
	"github.com/tributary-data/tributary/internal/streams"
)

// Control-plane actions: creating, describing, listing and configuring
// streams. Each takes the decoded request and returns the response value.

type streamModeDetails struct {
	StreamMode *Str `json:"StreamMode"`
}

type modeOut struct {
	StreamMode string `json:"StreamMode"`
}

type createStreamInput struct {
	StreamName         *Str               `json:"StreamName"`
	ShardCount         *Int               `json:"ShardCount"`
	StreamModeDetails  *streamModeDetails `json:"StreamModeDetails"`
	Tags               *StrMap            `json:"Tags"`
	MaxRecordSizeInKiB *Int               `json:"MaxRecordSizeInKiB"`
}

// onDemandShards is how many shards an ON_DEMAND stream starts with.
const onDemandShards = 4

func (s *Service) createStream(ctx context.Context, c caller, in *createStreamInput) (any, *Error) {
	var v validation
	mode := streams.ModeProvisioned
	if in.StreamModeDetails != nil {
		if v.notNull("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode != nil) {
			mode = string(*in.StreamModeDetails.StreamMode)
			v.enum("streamModeDetails.streamMode", mode, streams.ModeProvisioned, streams.ModeOnDemand)
		}
	}
	if in.ShardCount != nil {
		v.intRange("shardCount", int64(*in.ShardCount), 1, 1<<31-1)
	}
	if v.notNull("streamName", in.StreamName != nil) {
		checkStreamName(&v, in.StreamName, nil, true)
	}
	if in.Tags != nil {
		checkTagMap(&v, "tags", *in.Tags, 50)
	}
	if in.MaxRecordSizeInKiB != nil {
		v.intRange("maxRecordSizeInKiB", int64(*in.MaxRecordSizeInKiB), 1024, 10240)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	shards := onDemandShards
	switch {
	case in.ShardCount != nil:
		shards = int(*in.ShardCount)
	case mode == streams.ModeProvisioned:
		return nil, errInvalidArgument("ShardCount must be provided for PROVISIONED streams.")
	}
	if in.Tags != nil {
		if err := checkTagChars(*in.Tags, "add tags to", string(*in.StreamName), c.account); err != nil {
			return nil, err
		}
	}
	ref := streamRef{c.account, c.region, string(*in.StreamName)}
	spec := streams.CreateSpec{Ref: ref.id(), Shards: shards, Mode: mode}
	if in.MaxRecordSizeInKiB != nil {
		spec.MaxRecordSizeKiB = int(*in.MaxRecordSizeInKiB)
	}
	if in.Tags != nil {
		spec.Tags = map[string]string(*in.Tags)
	}
	return nil, awsError(ref, s.eng.Create(ctx, spec))
}

type deleteStreamInput struct {
	StreamName              *Str  `json:"StreamName"`
	StreamARN               *Str  `json:"StreamARN"`
	EnforceConsumerDeletion *Bool `json:"EnforceConsumerDeletion"`
}

func (s *Service) deleteStream(ctx context.Context, c caller, in *deleteStreamInput) (any, *Error) {
	var v validation
	ref, e, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	if n := e.Meta.LiveConsumers(time.Now()); n > 0 && (in.EnforceConsumerDeletion == nil || !*in.EnforceConsumerDeletion) {
		return nil, errResourceInUse("Stream %s under account %s has %d registered consumers. Deregister them, or delete the stream with EnforceConsumerDeletion.", ref.name, ref.account, n)
	}
	return nil, awsError(ref, s.eng.Delete(ctx, ref.id()))
}

// Shard descriptions as DescribeStream and ListShards return them.

type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardOut struct {
	ShardId               string              `json:"ShardId"`
	ParentShardId         string              `json:"ParentShardId,omitempty"`
	AdjacentParentShardId string              `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange        `json:"HashKeyRange"`
	SequenceNumberRange   sequenceNumberRange `json:"SequenceNumberRange"`
}

func describeShard(sh *streams.ShardMeta) shardOut {
	return shardOut{
		ShardId:               shard.ID(sh.Index),
		ParentShardId:         sh.Parent,
		AdjacentParentShardId: sh.AdjacentParent,
		HashKeyRange:          hashKeyRange{sh.Start, sh.End},
		SequenceNumberRange:   sequenceNumberRange{sh.StartingSequence(), sh.EndingSeq},
	}
}

type enhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

func metricsOut(m *streams.Meta) []enhancedMetrics {
	l := m.ShardLevelMetrics
	if l == nil {
		l = []string{}
	}
	return []enhancedMetrics{{l}}
}

type describeStreamInput struct {
	StreamName            *Str `json:"StreamName"`
	StreamARN             *Str `json:"StreamARN"`
	Limit                 *Int `json:"Limit"`
	ExclusiveStartShardId *Str `json:"ExclusiveStartShardId"`
}

type streamDescription struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       modeOut           `json:"StreamModeDetails"`
	Shards                  []shardOut        `json:"Shards"`
	HasMoreShards           bool              `json:"HasMoreShards"`
	RetentionPeriodHours    int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp Timestamp         `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics `json:"EnhancedMonitoring"`
	EncryptionType          string            `json:"EncryptionType"`
	KeyId                   string            `json:"KeyId,omitempty"`
}

func (s *Service) describeStream(_ context.Context, c caller, in *describeStreamInput) (any, *Error) {
	var v validation
	if in.Limit != nil {
		v.intRange("limit", int64(*in.Limit), 1, 10000)
	}
	checkName(&v, "exclusiveStartShardId", in.ExclusiveStartShardId)
	_, e, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	m := e.Meta
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	status := m.EffectiveStatus(time.Now())
	out := streamDescription{
		StreamName: m.Name, StreamARN: metaARN(m), StreamStatus: status,
		StreamModeDetails: modeOut{m.Mode}, Shards: []shardOut{},
		RetentionPeriodHours:    m.RetentionHours,
		StreamCreationTimestamp: Timestamp{m.Created},
		EnhancedMonitoring:      metricsOut(m), EncryptionType: encryptionType(m), KeyId: m.KeyID,
	}
	if status != streams.StatusCreating {
		for i := range m.Shards {
			sh := &m.Shards[i]
			if in.ExclusiveStartShardId != nil && shard.ID(sh.Index) <= string(*in.ExclusiveStartShardId) {
				continue
			}
			if len(out.Shards) == limit {
				out.HasMoreShards = true
				break
			}
			out.Shards = append(out.Shards, describeShard(sh))
		}
	}
	return struct {
		StreamDescription streamDescription `json:"StreamDescription"`
	}{out}, nil
}

type streamRefInput struct {
	StreamName *Str `json:"StreamName"`
	StreamARN  *Str `json:"StreamARN"`
}

type streamSummary struct {
	StreamName                 string            `json:"StreamName"`
	StreamARN                  string            `json:"StreamARN"`
	StreamStatus               string            `json:"StreamStatus"`
	StreamModeDetails          modeOut           `json:"StreamModeDetails"`
	RetentionPeriodHours       int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp    Timestamp         `json:"StreamCreationTimestamp"`
	EnhancedMonitoring         []enhancedMetrics `json:"EnhancedMonitoring"`
	EncryptionType             string            `json:"EncryptionType"`
	KeyId                      string            `json:"KeyId,omitempty"`
	OpenShardCount             int               `json:"OpenShardCount"`
	ConsumerCount              int               `json:"ConsumerCount"`
	StreamId                   string            `json:"StreamId"`
	MaxRecordSizeInKiB         int               `json:"MaxRecordSizeInKiB"`
	RecordDistributionStrategy string            `json:"RecordDistributionStrategy"`
	WarmThroughput             *warmThroughput   `json:"WarmThroughput,omitempty"`
}

func (s *Service) describeStreamSummary(_ context.Context, c caller, in *streamRefInput) (any, *Error) {
	var v validation
	_, e, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	m := e.Meta
	return struct {
		StreamDescriptionSummary streamSummary `json:"StreamDescriptionSummary"`
	}{streamSummary{
		StreamName: m.Name, StreamARN: metaARN(m), StreamStatus: m.EffectiveStatus(time.Now()),
		StreamModeDetails: modeOut{m.Mode}, RetentionPeriodHours: m.RetentionHours,
		StreamCreationTimestamp: Timestamp{m.Created}, EnhancedMonitoring: metricsOut(m),
		EncryptionType: encryptionType(m), KeyId: m.KeyID, OpenShardCount: m.OpenShards(), StreamId: m.StreamID(),
		ConsumerCount:      m.LiveConsumers(time.Now()),
		MaxRecordSizeInKiB: m.MaxRecordSizeKiB, RecordDistributionStrategy: distributionOf(m),
		WarmThroughput: warmThroughputOf(m),
	}}, nil
}

type listStreamsInput struct {
	Limit                    *Int `json:"Limit"`
	ExclusiveStartStreamName *Str `json:"ExclusiveStartStreamName"`
	NextToken                *Str `json:"NextToken"`
}

type listedStream struct {
	StreamName              string    `json:"StreamName"`
	StreamARN               string    `json:"StreamARN"`
	StreamStatus            string    `json:"StreamStatus"`
	StreamModeDetails       modeOut   `json:"StreamModeDetails"`
	StreamCreationTimestamp Timestamp `json:"StreamCreationTimestamp"`
}

type listStreamsOutput struct {
	StreamNames     []string       `json:"StreamNames"`
	HasMoreStreams  bool           `json:"HasMoreStreams"`
	StreamSummaries []listedStream `json:"StreamSummaries"`
	NextToken       string         `json:"NextToken,omitempty"`
}

// nextTokenTTL is how long ListStreams and ListShards tokens stay valid.
const nextTokenTTL = 300 * time.Second

// pageToken is the opaque NextToken of the paginated list actions: where
// the previous page ended, and when it was issued.
type pageToken struct {
	After   string `json:"a"`
	Stream  string `json:"s,omitempty"`
	Account string `json:"c,omitempty"`
	Region  string `json:"r,omitempty"`
	Issued  int64  `json:"t"`
}

func (t pageToken) encode() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(s string) (pageToken, *Error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &t) != nil || t.Issued == 0 {
		return t, errInvalidArgument("Invalid NextToken.")
	}
	if time.Since(time.UnixMilli(t.Issued)) > nextTokenTTL {
		return t, errExpiredNextToken("The timestamp sent with the NextToken has expired.")
	}
	return t, nil
}

func (s *Service) listStreams(ctx context.Context, c caller, in *listStreamsInput) (any, *Error) {
	var v validation
	if in.Limit != nil {
		v.intRange("limit", int64(*in.Limit), 1, 10000)
	}
	checkName(&v, "exclusiveStartStreamName", in.ExclusiveStartStreamName)
	if in.NextToken != nil {
		v.lenRange("nextToken", string(*in.NextToken), 1, 1048576)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	after := ""
	if in.ExclusiveStartStreamName != nil {
		after = string(*in.ExclusiveStartStreamName)
	}
	if in.NextToken != nil {
		t, aerr := decodePageToken(string(*in.NextToken))
		if aerr != nil {
			return nil, aerr
		}
		after = t.After
	}
	out := listStreamsOutput{StreamNames: []string{}, StreamSummaries: []listedStream{}}
	// Streams made or removed through other nodes included.
	if err := s.eng.Sync(ctx); err != nil {
		return nil, errInternal(err)
	}
	now := time.Now()
	for _, m := range s.eng.List(c.account, c.region) {
		if (after != "" && m.Name <= after) || (m.Status == streams.StatusDeleting && !now.Before(m.TransitionAt)) {
			continue
		}
		if len(out.StreamNames) == limit {
			out.HasMoreStreams = true
			out.NextToken = pageToken{After: out.StreamNames[limit-1], Issued: now.UnixMilli()}.encode()
			break
		}
		out.StreamNames = append(out.StreamNames, m.Name)
		out.StreamSummaries = append(out.StreamSummaries, listedStream{
			StreamName: m.Name, StreamARN: metaARN(m), StreamStatus: m.EffectiveStatus(now),
			StreamModeDetails: modeOut{m.Mode}, StreamCreationTimestamp: Timestamp{m.Created},
		})
	}
	return out, nil
}

type shardFilter struct {
	Type      *Str       `json:"Type"`
	ShardId   *Str       `json:"ShardId"`
	Timestamp *Timestamp `json:"Timestamp"`
}

type listShardsInput struct {
	StreamName              *Str         `json:"StreamName"`
	StreamARN               *Str         `json:"StreamARN"`
	NextToken               *Str         `json:"NextToken"`
	ExclusiveStartShardId   *Str         `json:"ExclusiveStartShardId"`
	MaxResults              *Int         `json:"MaxResults"`
	StreamCreationTimestamp *Timestamp   `json:"StreamCreationTimestamp"`
	ShardFilter             *shardFilter `json:"ShardFilter"`
}

var shardFilterTypes = []string{"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"}

func (s *Service) listShards(_ context.Context, c caller, in *listShardsInput) (any, *Error) {
	var v validation
	checkName(&v, "exclusiveStartShardId", in.ExclusiveStartShardId)
	if in.MaxResults != nil {
		v.intRange("maxResults", int64(*in.MaxResults), 1, 10000)
	}
	if in.NextToken != nil {
		v.lenRange("nextToken", string(*in.NextToken), 1, 1048576)
	}
	checkStreamName(&v, in.StreamName, in.StreamARN, false)
	if f := in.ShardFilter; f != nil {
		if v.notNull("shardFilter.type", f.Type != nil) {
			v.enum("shardFilter.type", string(*f.Type), shardFilterTypes...)
		}
		checkName(&v, "shardFilter.shardId", f.ShardId)
	}
	if err := v.err(); err != nil {
		return nil, err
	}

	ref, after, aerr := listShardsStart(c, in)
	if aerr != nil {
		return nil, aerr
	}
	e, aerr := s.lookup(ref)
	if aerr != nil {
		return nil, aerr
	}
	m := e.Meta
	if in.StreamCreationTimestamp != nil && in.StreamCreationTimestamp.Unix() != m.Created.Unix() {
		return nil, streamNotFound(ref.name, ref.account)
	}
	keep, aerr := s.shardFilterFunc(m, in.ShardFilter, &after)
	if aerr != nil {
		return nil, aerr
	}
	limit := 1000
	if in.MaxResults != nil && int(*in.MaxResults) < limit {
		limit = int(*in.MaxResults)
	}
	out := struct {
		Shards    []shardOut `json:"Shards"`
		NextToken string     `json:"NextToken,omitempty"`
	}{Shards: []shardOut{}}
	if m.EffectiveStatus(time.Now()) == streams.StatusCreating {
		return out, nil
	}
	for i := range m.Shards {
		sh := &m.Shards[i]
		if (after != "" && shard.ID(sh.Index) <= after) || !keep(sh) {
			continue
		}
		if len(out.Shards) == limit {
			out.NextToken = pageToken{After: out.Shards[limit-1].ShardId, Stream: ref.name,
				Account: ref.account, Region: ref.region, Issued: time.Now().UnixMilli()}.encode()
			break
		}
		out.Shards = append(out.Shards, describeShard(sh))
	}
	return out, nil
}

// listShardsStart is where a ListShards request starts: the stream and
// the shard id after which the listing starts, from its NextToken or
// else its stream and ExclusiveStartShardId.
func listShardsStart(c caller, in *listShardsInput) (ref streamRef, after string, aerr *Error) {
	if in.NextToken == nil {
		if in.StreamName == nil && in.StreamARN == nil {
			return ref, "", errInvalidArgument("Either NextToken or StreamName should be provided.")
		}
		if ref, aerr = c.resolve(in.StreamName, in.StreamARN); aerr != nil {
			return ref, "", aerr
		}
		if in.ExclusiveStartShardId != nil {
			after = string(*in.ExclusiveStartShardId)
		}
		return ref, after, nil
	}
	for _, other := range []struct {
		set  bool
		name string
	}{
		{in.StreamName != nil, "StreamName"}, {in.StreamARN != nil, "StreamARN"},
		{in.ExclusiveStartShardId != nil, "ExclusiveStartShardId"},
		{in.ShardFilter != nil, "ShardFilter"},
		{in.StreamCreationTimestamp != nil, "StreamCreationTimestamp"},
	} {
		if other.set {
			return ref, "", errInvalidArgument("NextToken and %s cannot be provided together.", other.name)
		}
	}
	t, aerr := decodePageToken(string(*in.NextToken))
	if aerr != nil {
		return ref, "", aerr
	}
	if t.Stream == "" {
		return ref, "", errInvalidArgument("Invalid NextToken.")
	}
	return streamRef{t.Account, t.Region, t.Stream}, t.After, nil
}

// shardFilterFunc returns the predicate a ListShards ShardFilter selects.
// AFTER_SHARD_ID moves the start of the listing instead.
func (s *Service) shardFilterFunc(m *streams.Meta, f *shardFilter, after *string) (func(*streams.ShardMeta) bool, *Error) {
	all := func(*streams.ShardMeta) bool { return true }
	if f == nil {
		return all, nil
	}
	horizon := time.Now().Add(-s.eng.Retention(m.RetentionHours))
	if horizon.Before(m.Created) {
		horizon = m.Created
	}
	openAt := func(sh *streams.ShardMeta, t time.Time) bool {
		return !sh.Created.After(t) && (sh.Closed.IsZero() || !sh.Closed.Before(t))
	}
	switch string(*f.Type) {
	case "AFTER_SHARD_ID":
		if f.ShardId == nil {
			return nil, errInvalidArgument("ShardId must be supplied in a ShardFilter with a Type of AFTER_SHARD_ID.")
		}
		if string(*f.ShardId) > *after {
			*after = string(*f.ShardId)
		}
		return all, nil
	case "AT_TRIM_HORIZON":
		return func(sh *streams.ShardMeta) bool { return openAt(sh, horizon) }, nil
	case "FROM_TRIM_HORIZON":
		return func(sh *streams.ShardMeta) bool { return sh.Closed.IsZero() || sh.Closed.After(horizon) }, nil
	case "AT_LATEST":
		return func(sh *streams.ShardMeta) bool { return sh.EndingSeq == "" }, nil
	case "AT_TIMESTAMP", "FROM_TIMESTAMP":
		if f.Timestamp == nil {
			return nil, errInvalidArgument("Timestamp must be supplied in a ShardFilter with a Type of FROM_TIMESTAMP or AT_TIMESTAMP.")
		}
		t := f.Timestamp.Time
		if t.Before(horizon) {
			t = horizon
		}
		if string(*f.Type) == "AT_TIMESTAMP" {
			return func(sh *streams.ShardMeta) bool { return openAt(sh, t) }, nil
		}
		return func(sh *streams.ShardMeta) bool { return sh.Closed.IsZero() || !sh.Closed.Before(t) }, nil
	}
	return all, nil
}

type retentionInput struct {
	StreamName           *Str `json:"StreamName"`
	StreamARN            *Str `json:"StreamARN"`
	RetentionPeriodHours *Int `json:"RetentionPeriodHours"`
}

func (s *Service) changeRetention(ctx context.Context, c caller, in *retentionInput, increase bool) (any, *Error) {
	var v validation
	v.notNull("retentionPeriodHours", in.RetentionPeriodHours != nil)
	ref, _, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	hours := int(*in.RetentionPeriodHours)
	switch {
	case hours < 24:
		return nil, errInvalidArgument("Minimum allowed retention period is 24 hours. Requested retention period (%d hours) is too short.", hours)
	case hours > 8760:
		return nil, errInvalidArgument("Maximum allowed retention period is 8760 hours. Requested retention period (%d hours) is too long.", hours)
	}
	err := s.eng.SetRetention(ctx, ref.id(), hours, func(m *streams.Meta) error {
		if increase && hours < m.RetentionHours {
			return errInvalidArgument("Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseRetentionPeriod API.", hours, m.Name, m.RetentionHours)
		}
		if !increase && hours > m.RetentionHours {
			return errInvalidArgument("Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseRetentionPeriod API.", hours, m.Name, m.RetentionHours)
		}
		return nil
	})
	return nil, awsError(ref, err)
}

type describeLimitsOutput struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

func (s *Service) describeLimits(ctx context.Context, c caller, _ *struct{}) (any, *Error) {
	out := describeLimitsOutput{ShardLimit: s.cfg.ShardLimit, OnDemandStreamCountLimit: 50}
	if err := s.eng.Sync(ctx); err != nil {
		return nil, errInternal(err)
	}
	for _, m := range s.eng.List(c.account, c.region) {
		out.OpenShardCount += m.OpenShards()
		if m.Mode == streams.ModeOnDemand {
			out.OnDemandStreamCount++
		}
	}
	return out, nil
}

func distributionOf(m *streams.Meta) string {
	if m.Distribution == "" {
		return streams.DistributionUserKey
	}
	return m.Distribution
}

// warmThroughputOf reports warm throughput for on-demand streams, the
// only ones that have it.
func warmThroughputOf(m *streams.Meta) *warmThroughput {
	if m.Mode != streams.ModeOnDemand {
		return nil
	}
	return &warmThroughput{m.WarmThroughputMiBps, m.WarmThroughputMiBps}
}
