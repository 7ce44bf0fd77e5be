// Package connect is Tributary's connector runtime: the Apache Kafka
// Connect model (connectors split into tasks, tasks run on a worker,
// records pass through converters and transforms) over Tributary streams
// instead of Kafka topics.
//
// The package holds the runtime and the types that the REST API, the CLI
// and the connector plugins share. Plugins live in their own packages
// (filestream, datagen, ...) and implement the interfaces in plugin.go;
// the runtime reaches streams through the Streams interface, which the
// in-process engine and a Kinesis API client both implement.
package connect

import (
	"fmt"
	"net/http"
)

// TargetState is what a user asked a connector to be. It survives
// restarts of the worker, unlike the observed State.
type TargetState string

// The target states, with Kafka's names.
const (
	TargetStarted TargetState = "STARTED"
	TargetPaused  TargetState = "PAUSED"
	TargetStopped TargetState = "STOPPED"
)

// State is the observed state of a connector or task, as GET
// /connectors/{c}/status reports it.
type State string

// The observed states, with Kafka's names. STOPPED applies to connectors
// only: a stopped connector has no tasks.
const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateStopped    State = "STOPPED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
)

// ConnectorType is "source", "sink", or "unknown" when the connector's
// class cannot be loaded.
type ConnectorType string

// The connector types.
const (
	TypeSource  ConnectorType = "source"
	TypeSink    ConnectorType = "sink"
	TypeUnknown ConnectorType = "unknown"
)

// TaskID names one task of one connector; its JSON is Kafka's
// ConnectorTaskId.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// ConnectorInfo is Kafka's ConnectorInfo entity: what POST /connectors and
// GET /connectors/{c} return.
type ConnectorInfo struct {
	Name   string            `json:"name"`
	Config map[string]string `json:"config"`
	Tasks  []TaskID          `json:"tasks"`
	Type   ConnectorType     `json:"type"`
}

// StateInfo is the state of a connector in a status reply. Trace holds the
// failure's stack or error chain and is omitted when empty, as in Kafka.
type StateInfo struct {
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// TaskState is the state of one task in a status reply.
type TaskState struct {
	ID       int    `json:"id"`
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"`
}

// ConnectorStatus is Kafka's ConnectorStateInfo: GET
// /connectors/{c}/status.
type ConnectorStatus struct {
	Name      string        `json:"name"`
	Connector StateInfo     `json:"connector"`
	Tasks     []TaskState   `json:"tasks"`
	Type      ConnectorType `json:"type"`
}

// TaskInfo is one entry of GET /connectors/{c}/tasks.
type TaskInfo struct {
	ID     TaskID            `json:"id"`
	Config map[string]string `json:"config"`
}

// PartitionOffset is one entry of the KIP-875 offsets API. A nil Offset
// in a PATCH body resets that partition.
type PartitionOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// PluginInfo is one entry of GET /connector-plugins. Type is one of
// source, sink, converter, header_converter, transformation, predicate.
type PluginInfo struct {
	Class   string `json:"class"`
	Type    string `json:"type"`
	Version string `json:"version"`
}

// Error is a failure the REST API reports as Kafka's error body,
// {"error_code": Code, "message": Message}. Code is also the HTTP status.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// notFound is Kafka's NotFoundException text for a connector.
func notFound(name string) *Error {
	return errorf(http.StatusNotFound, "Connector %s not found", name)
}

// ConfigInfos is the reply of PUT /connector-plugins/{class}/config/validate
// and the explanation attached to an invalid create: Kafka's ConfigInfos.
type ConfigInfos struct {
	Name       string       `json:"name"`
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// ConfigInfo pairs a setting's definition with the value given for it.
type ConfigInfo struct {
	Definition ConfigKeyInfo   `json:"definition"`
	Value      ConfigValueInfo `json:"value"`
}

// ConfigKeyInfo is one setting's definition in REST form: an entry of GET
// /connector-plugins/{class}/config, and the definition in a validate
// reply.
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"`
	Documentation string   `json:"documentation"`
	Group         *string  `json:"group"`
	Order         int      `json:"order"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// ConfigValueInfo is the value given for one setting and what is wrong
// with it.
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}
