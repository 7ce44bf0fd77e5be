package connect

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
)

// TestSeedDataGenerator is acceptance 2 of issue 4: the MSK Data
// Generator configuration from the seed material, posted verbatim,
// creates a running connector that fills book, bookstore and purchase,
// where every purchase's book_id and bookstore_id are keys already
// produced.
func TestSeedDataGenerator(t *testing.T) {
	srv := start(t)
	a := api{t: t, base: srv.ConnectURL}
	config := map[string]string{
		"connector.class":                     "com.amazonaws.mskdatagen.GeneratorSourceConnector",
		"tasks.max":                           "3",
		"genkp.book.with":                     "#{Internet.uuid}",
		"genv.book.title.with":                "#{Book.title}",
		"genv.book.genre.with":                "#{Book.genre}",
		"genv.book.author.with":               "#{Book.author}",
		"genkp.bookstore.with":                "#{Internet.uuid}",
		"genv.bookstore.name.with":            "#{Company.name}",
		"genv.bookstore.city.with":            "#{Address.city}",
		"genv.bookstore.state.with":           "#{Address.state}",
		"genkp.purchase.with":                 "#{Internet.uuid}",
		"genv.purchase.book_id.matching":      "book.key",
		"genv.purchase.bookstore_id.matching": "bookstore.key",
		"genv.purchase.customer.with":         "#{Name.username}",
		"genv.purchase.quantity.with":         "#{number.number_between '1','5'}",
		"genv.purchase.unit_price.with":       "#{number.number_between '10','75'}",
		"genv.purchase.timestamp.with":        "#{date.past '10','SECONDS'}",
		"global.throttle.ms":                  "2000",
		"global.history.records.max":          "1000",
		"value.converter":                     "org.apache.kafka.connect.json.JsonConverter",
		"value.converter.schemas.enable":      "false",
	}
	code, _, body := a.do("POST", "/connectors", map[string]any{"name": "datagen", "config": config})
	if code != 201 {
		t.Fatalf("create = %d %v", code, body)
	}
	testserver.WaitUntil(t, "RUNNING with 3 tasks", 10*time.Second, func() bool {
		_, _, st := a.do("GET", "/connectors/datagen/status", nil)
		m := st.(map[string]any)
		tasks := m["tasks"].([]any)
		running := 0
		for _, ts := range tasks {
			if ts.(map[string]any)["state"] == "RUNNING" {
				running++
			}
		}
		return m["connector"].(map[string]any)["state"] == "RUNNING" && running == 3
	})
	c := srv.Client()
	// Each task makes a purchase once it has a book and a bookstore, then
	// one every 2 s. Wait for a few.
	var purchases []types.Record
	testserver.WaitUntil(t, "six purchases", 30*time.Second, func() bool {
		purchases = nil
		if _, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("purchase")}); err != nil {
			return false
		}
		purchases = testserver.ReadStream(t, c, "purchase")
		return len(purchases) >= 6
	})
	// Read books and bookstores after the purchases, so every key they
	// refer to was produced before.
	keysOf := func(stream string) map[string]bool {
		out := map[string]bool{}
		for _, r := range testserver.ReadStream(t, c, stream) {
			out[*r.PartitionKey] = true
			var v map[string]string
			if err := json.Unmarshal(r.Data, &v); err != nil {
				t.Fatalf("%s record %q: %v", stream, r.Data, err)
			}
		}
		return out
	}
	books, stores := keysOf("book"), keysOf("bookstore")
	for _, p := range purchases {
		var v map[string]any
		if err := json.Unmarshal(p.Data, &v); err != nil {
			t.Fatalf("purchase %q is not JSON: %v", p.Data, err)
		}
		if !books[v["book_id"].(string)] || !stores[v["bookstore_id"].(string)] {
			t.Errorf("purchase %s refers to an unknown book or bookstore", p.Data)
		}
		q, err := strconv.Atoi(v["quantity"].(string))
		if err != nil || q < 1 || q > 5 {
			t.Errorf("purchase quantity %v", v["quantity"])
		}
		for _, f := range []string{"customer", "unit_price", "timestamp"} {
			if s, _ := v[f].(string); s == "" {
				t.Errorf("purchase lacks %s: %s", f, p.Data)
			}
		}
		if len(*p.PartitionKey) != 36 {
			t.Errorf("purchase key %q is not a UUID", *p.PartitionKey)
		}
	}
	code, _, body = a.do("GET", "/connectors/datagen/topics", nil)
	if code != 200 || len(body.(map[string]any)["datagen"].(map[string]any)["topics"].([]any)) != 3 {
		t.Fatalf("topics = %d %v", code, body)
	}
}
