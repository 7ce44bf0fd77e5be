package maxwell

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The producer_partition_by values.
const (
	PartitionDatabase      = "database"
	PartitionTable         = "table"
	PartitionPrimaryKey    = "primary_key"
	PartitionTransactionID = "transaction_id"
	PartitionThreadID      = "thread_id"
	PartitionColumn        = "column"
	PartitionRandom        = "random"
)

// partitioner computes a row's partition key (the Kinesis partition
// key) as Maxwell's AbstractMaxwellPartitioner and
// MaxwellKinesisPartitioner do.
type partitioner struct {
	by, fallback string
	columns      []string
	md5          bool // kinesis_md5_keys
}

func newPartitioner(by, columns, fallback string, md5Keys bool) (*partitioner, error) {
	p := &partitioner{by: by, fallback: fallback, md5: md5Keys}
	if p.by == "" {
		p.by = PartitionDatabase
	}
	switch p.by {
	case PartitionDatabase, PartitionTable, PartitionPrimaryKey, PartitionTransactionID, PartitionThreadID, PartitionRandom:
	case PartitionColumn:
		if strings.TrimSpace(columns) == "" {
			return nil, fmt.Errorf("please specify --producer_partition_columns=column1 when using producer_partition_by=column")
		}
		if fallback == "" {
			return nil, fmt.Errorf("please specify --producer_partition_by_fallback=[database, table, primary_key, transaction_id] when using producer_partition_by=column")
		}
	default:
		return nil, fmt.Errorf("please specify --producer_partition_by=database|table|primary_key|transaction_id|thread_id|column|random (got %q)", by)
	}
	switch p.fallback {
	case "", PartitionDatabase, PartitionTable, PartitionPrimaryKey, PartitionTransactionID, PartitionThreadID, PartitionRandom:
	default:
		return nil, fmt.Errorf("invalid producer_partition_by_fallback %q: use database, table, primary_key or transaction_id", fallback)
	}
	if columns != "" {
		for _, c := range strings.Split(columns, ",") {
			p.columns = append(p.columns, strings.TrimSpace(c))
		}
	}
	return p, nil
}

// key returns the partition key of a row.
func (p *partitioner) key(r *rowEvent) string {
	return p.finish(p.hashString(r, p.by))
}

// finish applies kinesis_md5_keys.
func (p *partitioner) finish(k string) string {
	if p.md5 {
		sum := md5.Sum([]byte(k))
		return hex.EncodeToString(sum[:])
	}
	return k
}

func (p *partitioner) hashString(r *rowEvent, by string) string {
	switch by {
	case PartitionTable:
		return r.table
	case PartitionPrimaryKey:
		return primaryKeyString(r)
	case PartitionTransactionID:
		if !r.hasXID {
			return "null"
		}
		return strconv.FormatUint(r.xid, 10)
	case PartitionThreadID:
		if !r.hasThreadID {
			return "null"
		}
		return strconv.FormatUint(r.threadID, 10)
	case PartitionColumn:
		// The columns' values as strings, concatenated; null and
		// missing columns add nothing.
		var b strings.Builder
		for _, c := range p.columns {
			if v, ok := r.get(c); ok && !v.null {
				b.WriteString(v.text)
			}
		}
		if b.Len() > 0 {
			return b.String()
		}
		return p.hashString(r, p.fallback)
	case PartitionRandom:
		const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 10)
		for i := range b {
			b[i] = alnum[rand.IntN(len(alnum))]
		}
		return string(b)
	}
	return r.database
}

// primaryKeyString is Maxwell's RowIdentity.toConcatString: the
// primary key's values concatenated without separator (nulls skipped);
// database+table for a table without a primary key; "None" when every
// key value is null.
func primaryKeyString(r *rowEvent) string {
	if len(r.pkColumns) == 0 {
		table := r.table
		if table == "" {
			table = "null"
		}
		return r.database + table
	}
	var b strings.Builder
	for _, c := range r.pkColumns {
		if v, ok := r.get(c); ok && !v.null {
			b.WriteString(v.text)
		}
	}
	if b.Len() == 0 {
		return "None"
	}
	return b.String()
}

// ddlKey is the partition key of a schema-change event. Maxwell's
// partitioner sees the change's database and table; a database event
// has no table, and table partitioning then uses the database.
func (p *partitioner) ddlKey(e *ddlEvent) string {
	by := p.by
	if by == PartitionTable && e.table == "" {
		by = PartitionDatabase
	}
	return p.finish(p.hashString(&rowEvent{database: e.database, table: e.table}, by))
}
