package connect

import (
	"context"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// Connector is the part of a plugin that runs once per connector: it
// reads the connector's configuration and splits the work into task
// configurations, as Kafka's Connector does. Tasks do the copying.
type Connector interface {
	// Config describes the connector's own settings. The runtime adds
	// the settings every connector has (name, tasks.max, converters,
	// transforms, errors.*), validates a configuration against both,
	// and serves them at /connector-plugins/{class}/config.
	Config() ConfigDef
	// Start reads a validated configuration.
	Start(ctx context.Context, props map[string]string) error
	// TaskConfigs splits the work into at most maxTasks task
	// configurations.
	TaskConfigs(maxTasks int) ([]map[string]string, error)
	// Stop releases what Start acquired.
	Stop() error
}

// FileSettings is implemented by connectors whose settings name files on
// the worker's host, such as FileStreamSource's "file". A worker with
// AllowedPaths refuses values of these keys outside its directories, at
// validation and again, resolved, when the connector and its tasks start;
// the connector's tasks open those files through Files(ctx), which holds
// them to the directories when they are opened.
type FileSettings interface {
	FileSettings() []string
}

// SourceConnector is a connector whose tasks read another system and
// produce records into streams.
type SourceConnector interface {
	Connector
	// Task returns a new, unstarted task.
	Task() SourceTask
}

// SinkConnector is a connector whose tasks consume records from streams
// and write them to another system.
type SinkConnector interface {
	Connector
	// Task returns a new, unstarted task.
	Task() SinkTask
}

// SourceTask produces records. The runtime converts, transforms and
// writes them, and commits each record's SourceOffset under its
// SourcePartition once the write is acknowledged.
type SourceTask interface {
	// Start receives the task's configuration and a view of the offsets
	// committed by earlier runs, to resume from.
	Start(ctx context.Context, props map[string]string, tc SourceTaskContext) error
	// Poll returns the next records. It may block until records are
	// available, but must return promptly when ctx ends. Returning no
	// records and no error is allowed.
	Poll(ctx context.Context) ([]*data.Record, error)
	// Stop releases what Start acquired. Poll is not running when Stop
	// is called.
	Stop() error
}

// SourceTaskContext gives a source task what the runtime knows.
type SourceTaskContext interface {
	// Offset returns the last committed offset for a source partition,
	// or nil when there is none.
	Offset(ctx context.Context, partition map[string]any) (map[string]any, error)
}

// ShardRef names one shard of one stream: a sink's unit of assignment,
// Kafka's TopicPartition.
type ShardRef struct {
	Stream string
	Shard  string
}

// ShardEnd is the position of a shard that has been read to its end
// after it was closed by resharding. Its children may then be read.
const ShardEnd = "SHARD_END"

// SinkTask consumes records from the shards assigned to it.
type SinkTask interface {
	// Start receives the task's configuration. A task that stores its
	// own progress atomically with its output (for exactly-once
	// delivery) calls tc.Seek with it.
	Start(ctx context.Context, props map[string]string, tc SinkTaskContext) error
	// Put delivers records in shard order. A task may buffer them until
	// Flush.
	Put(ctx context.Context, records []*data.Record) error
	// Flush makes everything Put so far durable. positions holds, for
	// each shard the task has consumed, the sequence number of the last
	// record delivered (or ShardEnd); the runtime commits them once
	// Flush returns.
	Flush(ctx context.Context, positions map[ShardRef]string) error
	// Stop releases what Start acquired, without flushing.
	Stop() error
}

// SinkTaskContext lets a sink task steer its consumption.
type SinkTaskContext interface {
	// Seek sets where consumption of shards resumes: after the given
	// sequence number, or nowhere for ShardEnd. Positions given here
	// override the runtime's committed offsets. It is only honoured
	// during Start.
	Seek(positions map[ShardRef]string)
}
