package maxwell

import (
	"context"
	"testing"
)

// TestBootstrapHoldsLiveRows checks the async bootstrap's ordering: rows
// of the table being bootstrapped wait until bootstrap-complete, rows of
// other tables flow, and once released the table's rows flow again.
func TestBootstrapHoldsLiveRows(t *testing.T) {
	out := &fakeEmitter{}
	p := newPipeline(testConfig(t, nil), out, nil)
	p.boot = &bootstrapper{async: true, enc: p.enc, out: out, rows: p}
	other := ordersTable()
	other.Name = "customers"
	ctx := context.Background()
	task := &bootstrapTask{id: 1, database: "ECOMMERCE", table: "Orders"}

	p.boot.mu.Lock()
	p.boot.active = task
	p.boot.mu.Unlock()
	feed(t, p, tx(1, ordersTable(), 1, 2), 100) // held
	feed(t, p, tx(2, other, 3), 200)            // flows
	if err := p.boot.emit(ctx, p.boot.event("bootstrap-insert", task, nil)); err != nil {
		t.Fatal(err)
	}
	if err := p.boot.release(ctx, p.boot.event("bootstrap-complete", task, nil)); err != nil {
		t.Fatal(err)
	}
	feed(t, p, tx(3, ordersTable(), 4), 300) // flows again

	want := "@bin.000001:100 customers:3|commit @bin.000001:200 bootstrap-insert Orders:<nil> " +
		"bootstrap-complete Orders:<nil> orders:1:0 orders:2|commit orders:4|commit @bin.000001:300"
	if got := summary(t, out.events); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if p.boot.active != nil || p.boot.held != nil {
		t.Error("the bootstrap is still active")
	}
}

func TestBootstrapSyncHoldsNothing(t *testing.T) {
	out := &fakeEmitter{}
	p := newPipeline(testConfig(t, nil), out, nil)
	p.boot = &bootstrapper{async: false, enc: p.enc, out: out, rows: p}
	p.boot.active = &bootstrapTask{database: "ecommerce", table: "orders"}
	if p.boot.hold(&rowEvent{database: "ecommerce", table: "orders"}) {
		t.Error("sync mode held a row")
	}
	p.boot.notify()
	if !p.boot.due {
		t.Error("notify did not make a sync bootstrap due")
	}
}
