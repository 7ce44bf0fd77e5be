package kinesis

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tributary-data/tributary/internal/store"
	"github.com/tributary-data/tributary/internal/streams"
)

// Stream and account settings: enhanced monitoring, stream mode, maximum
// record size, warm throughput, record distribution, resource policies and
// the account's billing commitment. They change metadata only; the data
// path reads the settings that affect it (record size, distribution).

// streamIDInput is the stream selector of the newer actions: a name, an
// ARN or the StreamId that DescribeStreamSummary reports.
type streamIDInput struct {
	StreamName *Str `json:"StreamName"`
	StreamARN  *Str `json:"StreamARN"`
	StreamId   *Str `json:"StreamId"`
}

// find ends the request's validation (v) and finds the stream.
func (in *streamIDInput) find(s *Service, c caller, v *validation) (streamRef, *streams.Stream, *Error) {
	if err := v.err(); err != nil {
		return streamRef{}, nil, err
	}
	return s.findStreamAny(c, in.StreamName, in.StreamARN, in.StreamId)
}

// checkSelector validates a stream selector; one of the three must be set.
func (in *streamIDInput) check(v *validation) {
	checkStreamName(v, in.StreamName, in.StreamARN, in.StreamId == nil)
	checkStreamID(v, in.StreamId)
}

var shardLevelMetrics = []string{"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"}

type enhancedMonitoringInput struct {
	streamIDInput
	ShardLevelMetrics *StrList `json:"ShardLevelMetrics"`
}

type enhancedMonitoringOutput struct {
	StreamName               string   `json:"StreamName"`
	StreamARN                string   `json:"StreamARN"`
	CurrentShardLevelMetrics []string `json:"CurrentShardLevelMetrics"`
	DesiredShardLevelMetrics []string `json:"DesiredShardLevelMetrics"`
}

// changeMonitoring enables or disables shard-level metrics. "ALL" stands
// for every metric, as on AWS.
func (s *Service) changeMonitoring(ctx context.Context, c caller, in *enhancedMonitoringInput, enable bool) (any, *Error) {
	var v validation
	if v.notNull("shardLevelMetrics", in.ShardLevelMetrics != nil) {
		v.length("shardLevelMetrics", quote("["+strings.Join(*in.ShardLevelMetrics, ", ")+"]"), len(*in.ShardLevelMetrics), 1, 7)
		for _, name := range *in.ShardLevelMetrics {
			if name != "ALL" && !slices.Contains(shardLevelMetrics, name) {
				v.add(quote("["+strings.Join(*in.ShardLevelMetrics, ", ")+"]"), "shardLevelMetrics", "satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]")
				break
			}
		}
	}
	in.check(&v)
	ref, e, aerr := in.find(s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	change := map[string]bool{}
	for _, name := range *in.ShardLevelMetrics {
		if name == "ALL" {
			for _, n := range shardLevelMetrics {
				change[n] = true
			}
		} else {
			change[name] = true
		}
	}
	current := append([]string{}, e.Meta.ShardLevelMetrics...)
	m, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		var next []string
		for _, n := range shardLevelMetrics {
			on := slices.Contains(m.ShardLevelMetrics, n)
			if change[n] {
				on = enable
			}
			if on {
				next = append(next, n)
			}
		}
		m.ShardLevelMetrics = next
		return nil
	})
	if err != nil {
		return nil, awsError(ref, err)
	}
	return enhancedMonitoringOutput{ref.name, ref.arn(), nonNil(current), nonNil(m.ShardLevelMetrics)}, nil
}

func (s *Service) enableEnhancedMonitoring(ctx context.Context, c caller, in *enhancedMonitoringInput) (any, *Error) {
	return s.changeMonitoring(ctx, c, in, true)
}

func (s *Service) disableEnhancedMonitoring(ctx context.Context, c caller, in *enhancedMonitoringInput) (any, *Error) {
	return s.changeMonitoring(ctx, c, in, false)
}

type updateStreamModeInput struct {
	streamIDInput
	StreamModeDetails   *streamModeDetails `json:"StreamModeDetails"`
	WarmThroughputMiBps *Int               `json:"WarmThroughputMiBps"`
}

// updateStreamMode switches a stream between PROVISIONED and ON_DEMAND.
// The stream is UPDATING for the update delay, as after a reshard.
func (s *Service) updateStreamMode(ctx context.Context, c caller, in *updateStreamModeInput) (any, *Error) {
	var v validation
	if v.notNull("streamModeDetails", in.StreamModeDetails != nil) {
		if v.notNull("streamModeDetails.streamMode", in.StreamModeDetails.StreamMode != nil) {
			v.enum("streamModeDetails.streamMode", string(*in.StreamModeDetails.StreamMode), streams.ModeProvisioned, streams.ModeOnDemand)
		}
	}
	if in.WarmThroughputMiBps != nil {
		v.intRange("warmThroughputMiBps", int64(*in.WarmThroughputMiBps), 0, 1<<31-1)
	}
	in.check(&v)
	ref, _, aerr := in.find(s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	mode := string(*in.StreamModeDetails.StreamMode)
	return nil, awsError(ref, s.eng.Change(ctx, ref.id(), func(m *streams.Meta) error {
		if m.Mode == mode {
			return errInvalidArgument("Stream %s under account %s is already in %s mode.", m.Name, m.Account, mode)
		}
		m.Mode = mode
		if in.WarmThroughputMiBps != nil {
			m.WarmThroughputMiBps = int(*in.WarmThroughputMiBps)
		}
		return nil
	}))
}

// Records may be up to 10 MiB on streams that allow it.
const maxRecordSizeLimitKiB = 10240

type updateMaxRecordSizeInput struct {
	streamIDInput
	MaxRecordSizeInKiB *Int `json:"MaxRecordSizeInKiB"`
}

func (s *Service) updateMaxRecordSize(ctx context.Context, c caller, in *updateMaxRecordSizeInput) (any, *Error) {
	var v validation
	if v.notNull("maxRecordSizeInKiB", in.MaxRecordSizeInKiB != nil) {
		v.intRange("maxRecordSizeInKiB", int64(*in.MaxRecordSizeInKiB), 1024, maxRecordSizeLimitKiB)
	}
	in.check(&v)
	ref, _, aerr := in.find(s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	_, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		m.MaxRecordSizeKiB = int(*in.MaxRecordSizeInKiB)
		return nil
	})
	if err != nil {
		return nil, awsError(ref, err)
	}
	return nil, nil
}

type updateWarmThroughputInput struct {
	streamIDInput
	WarmThroughputMiBps *Int `json:"WarmThroughputMiBps"`
}

type warmThroughput struct {
	TargetMiBps  int `json:"TargetMiBps"`
	CurrentMiBps int `json:"CurrentMiBps"`
}

// updateStreamWarmThroughput records the throughput an on-demand stream
// should be ready for. Tributary has no capacity to warm, so the target is
// current at once.
func (s *Service) updateStreamWarmThroughput(ctx context.Context, c caller, in *updateWarmThroughputInput) (any, *Error) {
	var v validation
	if v.notNull("warmThroughputMiBps", in.WarmThroughputMiBps != nil) {
		v.intRange("warmThroughputMiBps", int64(*in.WarmThroughputMiBps), 0, 1<<31-1)
	}
	in.check(&v)
	ref, e, aerr := in.find(s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	if e.Meta.Mode != streams.ModeOnDemand {
		return nil, errInvalidArgument("Warm throughput can only be set for streams in ON_DEMAND mode. Stream %s under account %s is in %s mode.", ref.name, ref.account, e.Meta.Mode)
	}
	target := int(*in.WarmThroughputMiBps)
	if _, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		m.WarmThroughputMiBps = target
		return nil
	}); err != nil {
		return nil, awsError(ref, err)
	}
	return struct {
		StreamARN      string         `json:"StreamARN"`
		StreamName     string         `json:"StreamName"`
		WarmThroughput warmThroughput `json:"WarmThroughput"`
	}{ref.arn(), ref.name, warmThroughput{target, target}}, nil
}

type updateDistributionInput struct {
	streamIDInput
	RecordDistributionStrategy *Str `json:"RecordDistributionStrategy"`
}

// updateStreamRecordDistributionStrategy chooses how records are spread
// over shards: by partition key (the default), or AUTO, where the service
// ignores partition and hash keys and balances records itself.
func (s *Service) updateStreamRecordDistributionStrategy(ctx context.Context, c caller, in *updateDistributionInput) (any, *Error) {
	var v validation
	if v.notNull("recordDistributionStrategy", in.RecordDistributionStrategy != nil) {
		v.enum("recordDistributionStrategy", string(*in.RecordDistributionStrategy), streams.DistributionAuto, streams.DistributionUserKey)
	}
	in.check(&v)
	ref, _, aerr := in.find(s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	if _, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		m.Distribution = string(*in.RecordDistributionStrategy)
		return nil
	}); err != nil {
		return nil, awsError(ref, err)
	}
	return nil, nil
}

type resourcePolicyInput struct {
	ResourceARN *Str `json:"ResourceARN"`
	StreamId    *Str `json:"StreamId"`
	Policy      *Str `json:"Policy"`
}

// policyTarget finds the stream a resource-policy action names.
func (s *Service) policyTarget(c caller, in *resourcePolicyInput) (streamRef, *streams.Stream, *Error) {
	if in.ResourceARN == nil && in.StreamId != nil {
		return s.findStreamByID(c, string(*in.StreamId))
	}
	if in.ResourceARN == nil {
		return streamRef{}, nil, errInvalidArgument("Either ResourceARN or StreamId should be provided.")
	}
	return s.findStream(c, nil, in.ResourceARN)
}

func (in *resourcePolicyInput) check(v *validation, needPolicy bool) {
	if in.ResourceARN != nil {
		checkResourceARN(v, in.ResourceARN)
	}
	checkStreamID(v, in.StreamId)
	if needPolicy && v.notNull("policy", in.Policy != nil) {
		v.lenRange("policy", string(*in.Policy), 1, 20480)
	}
}

// putResourcePolicy stores a policy document. Tributary does not evaluate
// IAM policies; it keeps them so that tools managing them round-trip.
func (s *Service) putResourcePolicy(ctx context.Context, c caller, in *resourcePolicyInput) (any, *Error) {
	var v validation
	in.check(&v, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	ref, _, aerr := s.policyTarget(c, in)
	if aerr != nil {
		return nil, aerr
	}
	var doc map[string]any
	if json.Unmarshal([]byte(*in.Policy), &doc) != nil {
		return nil, errInvalidArgument("Policy is not a valid JSON document.")
	}
	if _, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		m.ResourcePolicy = string(*in.Policy)
		return nil
	}); err != nil {
		return nil, awsError(ref, err)
	}
	return nil, nil
}

func (s *Service) getResourcePolicy(_ context.Context, c caller, in *resourcePolicyInput) (any, *Error) {
	var v validation
	in.check(&v, false)
	if err := v.err(); err != nil {
		return nil, err
	}
	_, e, aerr := s.policyTarget(c, in)
	if aerr != nil {
		return nil, aerr
	}
	policy := e.Meta.ResourcePolicy
	if policy == "" {
		policy = "{}"
	}
	return struct {
		Policy string `json:"Policy"`
	}{policy}, nil
}

func (s *Service) deleteResourcePolicy(ctx context.Context, c caller, in *resourcePolicyInput) (any, *Error) {
	var v validation
	in.check(&v, false)
	if err := v.err(); err != nil {
		return nil, err
	}
	ref, e, aerr := s.policyTarget(c, in)
	if aerr != nil {
		return nil, aerr
	}
	if e.Meta.ResourcePolicy == "" {
		return nil, errResourceNotFound("No resource policy found for resource %s.", ref.arn())
	}
	if _, err := s.eng.Update(ctx, ref.id(), func(m *streams.Meta) error {
		m.ResourcePolicy = ""
		return nil
	}); err != nil {
		return nil, awsError(ref, err)
	}
	return nil, nil
}

// accountSettings is what DescribeAccountSettings reports for an account
// and region, kept under its own metadata key.
type accountSettings struct {
	Status               string     `json:"status"`
	StartedAt            *time.Time `json:"startedAt,omitempty"`
	EndedAt              *time.Time `json:"endedAt,omitempty"`
	EarliestAllowedEndAt *time.Time `json:"earliestAllowedEndAt,omitempty"`
}

func accountKey(c caller) string { return "account." + c.account + "." + c.region }

// commitmentOut is MinimumThroughputBillingCommitmentOutput.
type commitmentOut struct {
	Status               string     `json:"Status"`
	StartedAt            *Timestamp `json:"StartedAt,omitempty"`
	EndedAt              *Timestamp `json:"EndedAt,omitempty"`
	EarliestAllowedEndAt *Timestamp `json:"EarliestAllowedEndAt,omitempty"`
}

// out reports the settings as of now: a commitment disabled before its
// earliest allowed end stays in force until then.
func (a accountSettings) out(now time.Time) commitmentOut {
	ts := func(t *time.Time) *Timestamp {
		if t == nil {
			return nil
		}
		return &Timestamp{*t}
	}
	st := a.Status
	switch {
	case st == "":
		st = "DISABLED"
	case st == "ENABLED_UNTIL_EARLIEST_ALLOWED_END" && !now.Before(*a.EarliestAllowedEndAt):
		st = "DISABLED"
	}
	return commitmentOut{st, ts(a.StartedAt), ts(a.EndedAt), ts(a.EarliestAllowedEndAt)}
}

func (s *Service) loadAccount(ctx context.Context, c caller) (accountSettings, uint64, error) {
	var a accountSettings
	e, err := s.st.Get(ctx, accountKey(c))
	if errors.Is(err, store.ErrNotFound) {
		return a, 0, nil
	}
	if err != nil {
		return a, 0, err
	}
	return a, e.Revision, json.Unmarshal(e.Value, &a)
}

func (s *Service) describeAccountSettings(ctx context.Context, c caller, _ *struct{}) (any, *Error) {
	a, _, err := s.loadAccount(ctx, c)
	if err != nil {
		return nil, errInternal(err)
	}
	return struct {
		MinimumThroughputBillingCommitment commitmentOut `json:"MinimumThroughputBillingCommitment"`
	}{a.out(time.Now())}, nil
}

type updateAccountSettingsInput struct {
	MinimumThroughputBillingCommitment *struct {
		Status *Str `json:"Status"`
	} `json:"MinimumThroughputBillingCommitment"`
}

// billingCommitmentMinimum is how long a minimum throughput commitment
// must last before it can be ended, as on AWS.
const billingCommitmentMinimum = 24 * time.Hour

// updateAccountSettings turns the account's minimum throughput billing
// commitment on or off. There is no bill; the state machine is kept so that
// tooling sees AWS's answers, including that a commitment disabled early
// stays in force until its earliest allowed end.
func (s *Service) updateAccountSettings(ctx context.Context, c caller, in *updateAccountSettingsInput) (any, *Error) {
	var v validation
	if v.notNull("minimumThroughputBillingCommitment", in.MinimumThroughputBillingCommitment != nil) {
		st := in.MinimumThroughputBillingCommitment.Status
		if v.notNull("minimumThroughputBillingCommitment.status", st != nil) {
			v.enum("minimumThroughputBillingCommitment.status", string(*st), "ENABLED", "DISABLED")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	want := string(*in.MinimumThroughputBillingCommitment.Status)
	for attempt := 0; attempt < 100; attempt++ {
		a, rev, err := s.loadAccount(ctx, c)
		if err != nil {
			return nil, errInternal(err)
		}
		now := time.Now()
		cur := a.out(now).Status
		switch {
		case want == "ENABLED" && cur == "DISABLED":
			end := now.Add(billingCommitmentMinimum)
			a = accountSettings{Status: "ENABLED", StartedAt: &now, EarliestAllowedEndAt: &end}
		case want == "ENABLED" && cur == "ENABLED_UNTIL_EARLIEST_ALLOWED_END":
			a.Status, a.EndedAt = "ENABLED", nil
		case want == "DISABLED" && cur == "ENABLED" && now.Before(*a.EarliestAllowedEndAt):
			a.Status, a.EndedAt = "ENABLED_UNTIL_EARLIEST_ALLOWED_END", a.EarliestAllowedEndAt
		case want == "DISABLED" && cur == "ENABLED":
			a.Status, a.EndedAt = "DISABLED", &now
		}
		b, _ := json.Marshal(a)
		if rev == 0 {
			_, err = s.st.Create(ctx, accountKey(c), b)
		} else {
			_, err = s.st.Update(ctx, accountKey(c), b, rev)
		}
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return nil, errInternal(err)
		}
		return struct {
			MinimumThroughputBillingCommitment commitmentOut `json:"MinimumThroughputBillingCommitment"`
		}{a.out(now)}, nil
	}
	return nil, errInternal(errors.New("account settings: too many concurrent updates"))
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
