package connect

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/tributary-data/tributary/internal/store"
)

// Offsets are stored one key per source partition (or sink shard), as
// Kafka's offsets topic keys them by ["<connector>", {partition}], so
// tasks of one connector commit without overwriting each other. The
// partition's canonical JSON (sorted keys) names the key.

func offsetKey(connector string, partition map[string]any) (string, error) {
	b, err := json.Marshal(partition)
	if err != nil {
		return "", fmt.Errorf("source partition %v: %w", partition, err)
	}
	return stateKey(kindOffsets, connector) + "." + hex.EncodeToString(b), nil
}

// loadOffsets returns a connector's committed offsets, sorted by
// partition for a stable REST reply.
func loadOffsets(ctx context.Context, kv KV, connector string) ([]PartitionOffset, error) {
	m, err := kv.List(ctx, stateKey(kindOffsets, connector)+".")
	if err != nil {
		return nil, fmt.Errorf("reading offsets of %s: %w", connector, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]PartitionOffset, 0, len(keys))
	for _, k := range keys {
		var po PartitionOffset
		if err := json.Unmarshal(m[k], &po); err != nil {
			return nil, fmt.Errorf("offset %s of %s: %w", k, connector, err)
		}
		out = append(out, po)
	}
	return out, nil
}

// commitOffsets writes offsets; a nil Offset removes the partition's.
func commitOffsets(ctx context.Context, kv KV, connector string, offs []PartitionOffset) error {
	for _, po := range offs {
		k, err := offsetKey(connector, po.Partition)
		if err != nil {
			return err
		}
		if po.Offset == nil {
			err = kv.Delete(ctx, k)
		} else {
			var b []byte
			if b, err = json.Marshal(po); err == nil {
				err = kv.Put(ctx, k, b)
			}
		}
		if err != nil {
			return fmt.Errorf("committing offsets of %s: %w", connector, err)
		}
	}
	return nil
}

// shardPartition is a sink's offset partition for a shard.
func shardPartition(r ShardRef) map[string]any {
	return map[string]any{"stream": r.Stream, "shard": r.Shard}
}

// sinkPositions reads a sink connector's committed positions.
func sinkPositions(offs []PartitionOffset) map[ShardRef]string {
	out := map[ShardRef]string{}
	for _, po := range offs {
		st, _ := po.Partition["stream"].(string)
		sh, _ := po.Partition["shard"].(string)
		seq, _ := po.Offset["sequence_number"].(string)
		if st != "" && sh != "" && seq != "" {
			out[ShardRef{st, sh}] = seq
		}
	}
	return out
}

// checkSinkOffsets validates a PATCH body for a sink connector.
func checkSinkOffsets(offs []PartitionOffset) error {
	for _, po := range offs {
		st, ok1 := po.Partition["stream"].(string)
		sh, ok2 := po.Partition["shard"].(string)
		if !ok1 || !ok2 || st == "" || sh == "" || len(po.Partition) != 2 {
			return errorf(http.StatusBadRequest, "The partitions for sink connectors must contain exactly the keys \"stream\" and \"shard\", both strings; found %v", po.Partition)
		}
		if po.Offset == nil {
			continue
		}
		if seq, ok := po.Offset["sequence_number"].(string); !ok || seq == "" || len(po.Offset) != 1 {
			return errorf(http.StatusBadRequest, "The offsets for sink connectors must contain exactly the key \"sequence_number\", a string (a sequence number, or %s); found %v", ShardEnd, po.Offset)
		}
	}
	return nil
}

// commitLater says whether a periodic commit that failed with err may
// wait for the next one: when the store refused the write for now (a
// full disk), the task keeps running, as Kafka Connect's do when an
// offset commit fails, and the offsets stay pending until a commit
// succeeds. It logs the failure.
func (h *Herder) commitLater(connector string, task int, err error) bool {
	if !errors.Is(err, store.ErrUnavailable) {
		return false
	}
	h.log.Warn("committing offsets failed; retrying at the next commit", "connector", connector, "task", task, "err", err)
	return true
}
