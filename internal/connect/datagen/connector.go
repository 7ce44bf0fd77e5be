package datagen

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// pollMax bounds the records one Poll returns, so the runtime writes in
// batches but still flushes and reacts to pauses promptly.
const pollMax = 2000

// Connector is the MSK Data Generator as a source connector, registered
// under ConnectorClass.
type Connector struct {
	props map[string]string
}

// NewConnector returns an unstarted generator connector.
func NewConnector() connect.SourceConnector { return &Connector{} }

// Config lists the generator's global settings (globalDef). The
// generator keys (genkp.<topic>.with, genv.<topic>.<field>.matching,
// topic.<topic>.*) are patterns; ValidateConfig checks them.
func (c *Connector) Config() connect.ConfigDef { return globalDef() }

// ValidateConfig reports each generator problem against its key, so an
// unknown Java-Faker expression is a validation error on that key.
//
// The problems of the global settings are left out: the runtime reports
// them from Config, the same definition.
func (c *Connector) ValidateConfig(props map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, err := range Validate(props) {
		var ce *ConfigError
		if errors.As(err, &ce) {
			if _, global := globalDef().Lookup(ce.Key); global {
				continue
			}
			out[ce.Key] = append(out[ce.Key], ce.Message)
		} else {
			out["genkp/genk/genv/genvp"] = append(out["genkp/genk/genv/genvp"], err.Error())
		}
	}
	return out
}

// Start parses the configuration.
func (c *Connector) Start(_ context.Context, props map[string]string) error {
	if _, err := ParseConfig(props); err != nil {
		return err
	}
	c.props = props
	return nil
}

// TaskConfigs gives every task the whole configuration, as the MSK
// generator does.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	return TaskConfigs(c.props, maxTasks), nil
}

// Stop implements connect.Connector.
func (c *Connector) Stop() error { return nil }

// Task returns a generator task.
func (c *Connector) Task() connect.SourceTask { return &task{} }

type task struct {
	g *Generator
}

// Start seeds the task's generator from the connector name, the task's
// identity and the time, so tasks generate different data.
func (t *task) Start(_ context.Context, props map[string]string, _ connect.SourceTaskContext) error {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", props["name"], time.Now().UnixNano())
	g, err := New(props, int64(h.Sum64()))
	if err != nil {
		return err
	}
	t.g = g
	return nil
}

// Poll returns the records that are due, up to pollMax, waiting for the
// next one to be due when none is.
func (t *task) Poll(ctx context.Context) ([]*data.Record, error) {
	var out []*data.Record
	for len(out) < pollMax {
		rec, wait, err := t.g.Poll(time.Now())
		if errors.Is(err, ErrDrained) {
			if len(out) > 0 {
				return out, nil
			}
			// Every topic has produced records.exactly: idle until stopped.
			<-ctx.Done()
			return nil, nil
		}
		if err != nil {
			return out, err
		}
		if rec != nil {
			out = append(out, rec)
			continue
		}
		if len(out) > 0 {
			return out, nil
		}
		timer := time.NewTimer(min(wait, time.Second))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil
		case <-timer.C:
		}
		return nil, nil
	}
	return out, nil
}

// Stop implements connect.SourceTask.
func (t *task) Stop() error { return nil }
