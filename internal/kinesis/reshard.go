package kinesis

import (
	"context"
)

// Resharding: SplitShard, MergeShards and UpdateShardCount, whose
// validation and wording are AWS's; the engine plans and applies them
// (internal/streams/reshard.go).

type splitShardInput struct {
	StreamName         *Str `json:"StreamName"`
	StreamARN          *Str `json:"StreamARN"`
	ShardToSplit       *Str `json:"ShardToSplit"`
	NewStartingHashKey *Str `json:"NewStartingHashKey"`
}

func (s *Service) splitShard(ctx context.Context, c caller, in *splitShardInput) (any, *Error) {
	var v validation
	if v.notNull("newStartingHashKey", in.NewStartingHashKey != nil) {
		k := string(*in.NewStartingHashKey)
		v.pattern("newStartingHashKey", k, hashKeyPattern, hashKeyRE.MatchString(k))
	}
	if v.notNull("shardToSplit", in.ShardToSplit != nil) {
		checkName(&v, "shardToSplit", in.ShardToSplit)
	}
	ref, _, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, awsError(ref, s.eng.Split(ctx, ref.id(), string(*in.ShardToSplit), string(*in.NewStartingHashKey)))
}

type mergeShardsInput struct {
	StreamName           *Str `json:"StreamName"`
	StreamARN            *Str `json:"StreamARN"`
	ShardToMerge         *Str `json:"ShardToMerge"`
	AdjacentShardToMerge *Str `json:"AdjacentShardToMerge"`
}

func (s *Service) mergeShards(ctx context.Context, c caller, in *mergeShardsInput) (any, *Error) {
	var v validation
	if v.notNull("adjacentShardToMerge", in.AdjacentShardToMerge != nil) {
		checkName(&v, "adjacentShardToMerge", in.AdjacentShardToMerge)
	}
	if v.notNull("shardToMerge", in.ShardToMerge != nil) {
		checkName(&v, "shardToMerge", in.ShardToMerge)
	}
	ref, _, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	return nil, awsError(ref, s.eng.Merge(ctx, ref.id(), string(*in.ShardToMerge), string(*in.AdjacentShardToMerge)))
}

type updateShardCountInput struct {
	StreamName       *Str `json:"StreamName"`
	StreamARN        *Str `json:"StreamARN"`
	TargetShardCount *Int `json:"TargetShardCount"`
	ScalingType      *Str `json:"ScalingType"`
}

func (s *Service) updateShardCount(ctx context.Context, c caller, in *updateShardCountInput) (any, *Error) {
	var v validation
	if v.notNull("scalingType", in.ScalingType != nil) {
		v.enum("scalingType", string(*in.ScalingType), "UNIFORM_SCALING")
	}
	if v.notNull("targetShardCount", in.TargetShardCount != nil) {
		v.intRange("targetShardCount", int64(*in.TargetShardCount), 1, 1<<31-1)
	}
	ref, _, aerr := s.validStream(c, &v, in.StreamName, in.StreamARN)
	if aerr != nil {
		return nil, aerr
	}
	target := int(*in.TargetShardCount)
	current, err := s.eng.UpdateShardCount(ctx, ref.id(), target)
	if err != nil {
		return nil, awsError(ref, err)
	}
	return struct {
		StreamName        string `json:"StreamName"`
		StreamARN         string `json:"StreamARN"`
		CurrentShardCount int    `json:"CurrentShardCount"`
		TargetShardCount  int    `json:"TargetShardCount"`
	}{ref.name, ref.arn(), current, target}, nil
}
