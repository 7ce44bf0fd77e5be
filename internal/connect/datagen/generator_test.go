package datagen

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// seedConfig is issue 4's seed configuration: books, bookstores, and
// purchases that reference both.
var seedConfig = map[string]string{
	"connector.class":                     ConnectorClass,
	"tasks.max":                           "1",
	"genkp.book.with":                     "#{Internet.uuid}",
	"genv.book.title.with":                "#{Book.title}",
	"genv.book.genre.with":                "#{Book.genre}",
	"genv.book.author.with":               "#{Book.author}",
	"genv.book.price.with":                "#{Commerce.price}",
	"genkp.bookstore.with":                "#{Internet.uuid}",
	"genv.bookstore.name.with":            "#{Company.name}",
	"genv.bookstore.city.with":            "#{Address.city}",
	"genv.bookstore.state.with":           "#{Address.state}",
	"genkp.purchase.with":                 "#{Internet.uuid}",
	"genv.purchase.book_id.matching":      "book.key",
	"genv.purchase.bookstore_id.matching": "bookstore.key",
	"genv.purchase.quantity.with":         "#{number.number_between '1','5'}",
	"genv.purchase.purchased_at.with":     "#{date.past '10','SECONDS'}",
	"genv.purchase.customer.with":         "#{Name.username}",
	"global.throttle.ms":                  "500",
	"global.history.records.max":          "1000",
}

var fixedNow = time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)

func newGen(t *testing.T, props map[string]string, seed int64) *Generator {
	t.Helper()
	g, err := New(props, seed, WithClock(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSeedConfiguration(t *testing.T) {
	g := newGen(t, seedConfig, 42)
	if got := g.Topics(); !reflect.DeepEqual(got, []string{"book", "bookstore", "purchase"}) {
		t.Fatalf("topics %v", got)
	}
	if g.Throttle("purchase") != 500*time.Millisecond {
		t.Fatalf("throttle %v", g.Throttle("purchase"))
	}
	// Purchases cannot be produced before books and bookstores exist.
	if _, _, err := g.Generate("purchase"); !errors.Is(err, ErrNotReady) {
		t.Fatalf("purchase before books: %v", err)
	}
	books, stores := map[string]bool{}, map[string]bool{}
	for i := 0; i < 50; i++ {
		k, v, err := g.Generate("book")
		if err != nil {
			t.Fatal(err)
		}
		books[k.(string)] = true
		if m := v.(map[string]any); m["title"] == "" || m["author"] == "" {
			t.Fatalf("book %v", m)
		}
	}
	for i := 0; i < 20; i++ {
		k, _, err := g.Generate("bookstore")
		if err != nil {
			t.Fatal(err)
		}
		stores[k.(string)] = true
	}
	seenBooks := map[string]bool{}
	for i := 0; i < 500; i++ {
		k, v, err := g.Generate("purchase")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := k.(string); !ok {
			t.Fatalf("key %T", k)
		}
		m := v.(map[string]any)
		if !books[m["book_id"].(string)] || !stores[m["bookstore_id"].(string)] {
			t.Fatalf("purchase %v references an unknown book or bookstore", m)
		}
		seenBooks[m["book_id"].(string)] = true
		// Values are strings by default, as the MSK generator writes them.
		if q, err := strconv.Atoi(m["quantity"].(string)); err != nil || q < 1 || q > 4 {
			t.Fatalf("quantity %v", m["quantity"])
		}
		ts, err := time.Parse(javaDateFormat, m["purchased_at"].(string))
		if err != nil || ts.Before(fixedNow.Add(-10*time.Second)) || ts.After(fixedNow) {
			t.Fatalf("purchased_at %v %v", m["purchased_at"], err)
		}
	}
	if len(seenBooks) < 30 {
		t.Errorf("purchases matched only %d of 50 books", len(seenBooks))
	}
}

func TestDeterministic(t *testing.T) {
	run := func(seed int64) []any {
		g := newGen(t, seedConfig, seed)
		var out []any
		for i := 0; i < 30; i++ {
			for _, tp := range g.Topics() {
				k, v, err := g.Generate(tp)
				if err != nil && !errors.Is(err, ErrNotReady) {
					t.Fatal(err)
				}
				out = append(out, k, v)
			}
		}
		return out
	}
	a, b, c := run(1), run(1), run(2)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different output")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds, same output")
	}
}

func TestRecordSchemas(t *testing.T) {
	props := map[string]string{
		StringsKey:                    "false", // typed values and schemas
		"genkp.a.with":                "#{Internet.uuid}",
		"genv.a.n.with":               "#{number.number_between '1','5'}",
		"genv.a.flag.with":            "#{Bool.bool}",
		"genv.a.addr->city.with":      "#{Address.city}",
		"genv.a.addr->zip.with":       "#{Address.zipCode}",
		"genv.a.d.with":               "#{number.randomDouble '2','1','3'}",
		"genk.b.id.matching":          "a.value.n",
		"genvp.b.with":                "n=#{number.number_between '1','5'}",
		"topic.b.records.exactly":     "3",
		"attrv.a.flag.null.rate":      "0",
		"topic.a.history.records.max": "2",
	}
	g := newGen(t, props, 5)
	ra, err := g.Record("a")
	if err != nil {
		t.Fatal(err)
	}
	if ra.KeySchema.Type != data.TypeString || !ra.KeySchema.Optional {
		t.Fatalf("key schema %+v", ra.KeySchema)
	}
	vs := ra.ValueSchema
	if vs.Type != data.TypeStruct || vs.Name != "com.amazonaws.mskdatagen.Gen0" {
		t.Fatalf("value schema %+v", vs)
	}
	var names []string
	for _, f := range vs.Fields {
		names = append(names, f.Name)
	}
	if !reflect.DeepEqual(names, []string{"addr", "d", "flag", "n"}) {
		t.Fatalf("fields %v", names)
	}
	if vs.Field("n").Schema.Type != data.TypeInt64 || vs.Field("flag").Schema.Type != data.TypeBoolean || vs.Field("d").Schema.Type != data.TypeFloat64 {
		t.Fatalf("field types %+v", vs.Fields)
	}
	addr := vs.Field("addr").Schema
	if addr.Type != data.TypeStruct || addr.Name != "com.amazonaws.mskdatagen.Gen1" || addr.Field("zip") == nil {
		t.Fatalf("addr schema %+v", addr)
	}
	if err := data.Validate(vs, ra.Value); err != nil {
		t.Fatal(err)
	}
	if !ra.Timestamp.Equal(fixedNow) || ra.Topic != "a" {
		t.Fatalf("record %+v", ra)
	}
	// b's key matches a.value.n, so it is an INT64 struct field.
	for i := 0; i < 3; i++ {
		rb, err := g.Record("b")
		if err != nil {
			t.Fatal(err)
		}
		if rb.KeySchema.Field("id").Schema.Type != data.TypeInt64 {
			t.Fatalf("b key schema %+v", rb.KeySchema.Fields[0].Schema)
		}
		if err := data.Validate(rb.KeySchema, rb.Key); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rb.Value.(string), "n=") {
			t.Fatalf("b value %v", rb.Value)
		}
	}
	if _, err := g.Record("b"); !errors.Is(err, ErrRetired) {
		t.Fatalf("4th b record: %v", err)
	}
	if _, err := g.Record("nope"); !errors.Is(err, ErrUnknownTopic) {
		t.Fatal(err)
	}
}

// TestHistoryCap: matching draws only from the most recent
// history.records.max records.
func TestHistoryCap(t *testing.T) {
	g := newGen(t, map[string]string{
		"genkp.a.with":               "#{Internet.uuid}",
		"genkp.b.matching":           "a.key",
		"global.history.records.max": "3",
	}, 9)
	var keys []string
	for i := 0; i < 10; i++ {
		k, _, _ := g.Generate("a")
		keys = append(keys, k.(string))
	}
	recent := map[string]bool{keys[7]: true, keys[8]: true, keys[9]: true}
	for i := 0; i < 200; i++ {
		k, _, err := g.Generate("b")
		if err != nil {
			t.Fatal(err)
		}
		if !recent[k.(string)] {
			t.Fatalf("b matched %v, not one of the 3 most recent a keys", k)
		}
	}
}

func TestRatesAndSometimes(t *testing.T) {
	g := newGen(t, map[string]string{
		"genkp.a.with":                  "#{Internet.uuid}",
		"genv.a.x.with":                 "#{Name.firstName}",
		"attrv.a.x.null.rate":           "1",
		"genkp.b.with":                  "#{Internet.uuid}",
		"genv.b.ref.sometimes.with":     "fresh",
		"genv.b.ref.sometimes.matching": "a.key",
		"attrv.b.ref.matching.rate":     "0.5",
		"topic.b.tombstone.rate":        "0",
		"genkp.c.with":                  "#{Internet.uuid}",
		"genvp.c.with":                  "v",
		"topic.c.tombstone.rate":        "1",
	}, 3)
	// b only sometimes matches a, so it can start before a has records.
	if _, v, err := g.Generate("b"); err != nil || v.(map[string]any)["ref"] != "fresh" {
		t.Fatalf("%v %v", v, err)
	}
	_, v, _ := g.Generate("a")
	if m := v.(map[string]any); m["x"] != nil || len(m) != 1 {
		t.Fatalf("null.rate 1: %v", m)
	}
	matched, fresh := 0, 0
	for i := 0; i < 1000; i++ {
		_, v, _ := g.Generate("b")
		if v.(map[string]any)["ref"] == "fresh" {
			fresh++
		} else {
			matched++
		}
	}
	if matched < 400 || fresh < 400 {
		t.Fatalf("matching.rate 0.5: %d matched, %d fresh", matched, fresh)
	}
	if k, v, _ := g.Generate("c"); v != nil || k == nil {
		t.Fatalf("tombstone: %v %v", k, v)
	}
}

func TestStringsMode(t *testing.T) {
	props := map[string]string{
		"genkp.order.with":         "#{number.number_between '100','101'}",
		"genv.order.quantity.with": "#{number.number_between '4','5'}",
		"genv.order.gift.with":     "#{Bool.bool}",
		StringsKey:                 "true",
	}
	g := newGen(t, props, 1)
	r, err := g.Record("order")
	if err != nil {
		t.Fatal(err)
	}
	if r.Key != "100" || r.KeySchema.Type != data.TypeString {
		t.Fatalf("key %#v", r.Key)
	}
	st := r.Value.(*data.Struct)
	if q, _ := st.Get("quantity"); q != "4" {
		t.Fatalf("quantity %#v", q)
	}
	if b, _ := st.Get("gift"); b != "true" && b != "false" {
		t.Fatalf("gift %#v", b)
	}
}

func TestPoll(t *testing.T) {
	g := newGen(t, map[string]string{
		"genkp.a.with":            "#{Internet.uuid}",
		"genkp.b.matching":        "a.key",
		"global.throttle.ms":      "1000",
		"topic.b.throttle.ms":     "250",
		"topic.a.records.exactly": "2",
		"topic.b.records.exactly": "5",
	}, 1)
	now := fixedNow
	var got []string
	for step := 0; step < 100; step++ {
		r, wait, err := g.Poll(now)
		if errors.Is(err, ErrDrained) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			if wait <= 0 {
				t.Fatalf("no record and no wait")
			}
			now = now.Add(wait)
			continue
		}
		got = append(got, r.Topic+"@"+now.Sub(fixedNow).String())
	}
	want := []string{"a@0s", "b@0s", "b@250ms", "b@500ms", "b@750ms", "a@1s", "b@1s"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("poll order\n got %v\nwant %v", got, want)
	}
	if g.Produced("a") != 2 || g.Produced("b") != 5 {
		t.Fatal("counts")
	}
}

func TestTaskConfigs(t *testing.T) {
	tc := TaskConfigs(seedConfig, 3)
	if len(tc) != 3 || !reflect.DeepEqual(tc[2], seedConfig) {
		t.Fatal(tc)
	}
	tc[0]["x"] = "y"
	if _, ok := seedConfig["x"]; ok {
		t.Fatal("task configs share the map")
	}
}
