package maxwell_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/tributary-data/tributary/internal/cdc/maxwell"
	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/connect/kinesisstreams"
)

// TestConnector runs the Maxwell source connector in the Connect runtime
// (standalone style: Kinesis API streams, file offsets), stops the
// worker, and starts it again from the committed offset.
func TestConnector(t *testing.T) {
	e := newEnv(t)
	e.createStream("orders", 1)
	e.db.Exec(t, seedSchema...)
	// Start at a known position, so no row is missed while the task
	// connects.
	c, err := e.db.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := r.GetString(0, 0)
	pos, _ := r.GetInt(0, 1)
	c.Quit()

	streams, err := kinesisstreams.FromProperties(context.Background(), map[string]string{
		kinesisstreams.PropEndpoint: e.srv.Endpoint, kinesisstreams.PropRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	kvPath := filepath.Join(t.TempDir(), "offsets")
	registry := connect.NewRegistry("test", map[string]func() connect.Connector{
		maxwell.ConnectorClass: func() connect.Connector { return maxwell.NewConnector() },
	})
	config := map[string]string{
		"connector.class": maxwell.ConnectorClass, "tasks.max": "1",
		"key.converter":   "org.apache.kafka.connect.storage.StringConverter",
		"value.converter": "org.apache.kafka.connect.storage.StringConverter",
		"host":            e.db.Host, "port": strconv.Itoa(e.db.Port), "user": e.db.User, "password": e.db.Password,
		"replica_server_id": "4245", "kinesis_stream": "orders", "producer_partition_by": "primary_key",
		"init_position": fmt.Sprintf("%s:%d", file, pos),
	}
	worker := func() *connect.Herder {
		kv, err := connect.OpenFileKV(kvPath)
		if err != nil {
			t.Fatal(err)
		}
		h := connect.NewHerder(connect.WorkerConfig{WorkerID: "w", Props: map[string]string{"offset.flush.interval.ms": "100"},
			Registry: registry, Streams: streams, KV: kv, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.PutConnectorConfig(context.Background(), "mx", config); err != nil {
			t.Fatal(err)
		}
		return h
	}

	h := worker()
	e.db.Exec(t, seedInserts...)
	recs := e.waitRecords("orders", 3)
	for _, rec := range recs {
		got := parseRow(t, rec.data)
		id := orderID(t, got)
		if want := e.expectedSeedRow(id, got); rec.data != want {
			t.Errorf("order %d:\ngot  %s\nwant %s", id, rec.data, want)
		}
		if rec.key != strconv.Itoa(id) {
			t.Errorf("order %d: key %q", id, rec.key)
		}
	}
	offs, err := h.Offsets(context.Background(), "mx")
	if err != nil {
		t.Fatal(err)
	}
	h.Stop(context.Background())
	if len(offs) > 1 {
		t.Errorf("offsets %+v", offs)
	}

	// Down: more changes. Up again from the committed offset, even
	// though init_position is still set.
	e.db.Exec(t,
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1004, 'Cable', 5.00)",
		"BEGIN",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1005, 'Mug', 8.00)",
		"INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1006, 'Pen', 1.00)",
		"COMMIT")
	h = worker()
	defer h.Stop(context.Background())
	e.waitRecords("orders", 6)
	e.db.Exec(t, "INSERT INTO ecommerce.orders (customer_id, item_description, price) VALUES (1007, 'Last', 9.00)")
	recs = e.waitRecords("orders", 7)
	var ids []int
	for _, rec := range recs {
		ids = append(ids, orderID(t, parseRow(t, rec.data)))
	}
	sort.Ints(ids)
	if fmt.Sprint(ids) != "[1 2 3 4 5 6 7]" {
		t.Errorf("orders %v: each should arrive once", ids)
	}
	offs, err = h.Offsets(context.Background(), "mx")
	if err != nil || len(offs) != 1 || offs[0].Partition["server"] != "maxwell" || offs[0].Offset["file"] != file {
		t.Errorf("offsets %+v, %v", offs, err)
	}
}
