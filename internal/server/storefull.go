package server

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/store"
)

// A full store (its filesystem below the reserve, or -max-store-bytes
// reached) refuses every write until space is freed, and then heals by
// itself. Both health endpoints and a gauge say so, so that an operator
// or a load balancer sees it without reading the log.

// registerStoreFull adds tributary_store_full to reg: 1 while the store
// refuses writes for lack of space, measured at every scrape.
func registerStoreFull(reg prometheus.Registerer, st *store.Store) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tributary_store_full",
		Help: "1 while the store refuses writes because the data directory's filesystem is full or it holds -max-store-bytes, else 0.",
	}, func() float64 {
		if st.Full() != "" {
			return 1
		}
		return 0
	}))
}

// fullAwareHerder is the Connect runtime as the REST API sees it, with
// GET /health reporting the worker unhealthy while the store is full:
// no connector can commit offsets or write records then.
type fullAwareHerder struct {
	*connect.Herder
	store *store.Store
}

// Health is the herder's, unless the store is full: then "unhealthy",
// which Kafka Connect answers with 500, and why.
func (h fullAwareHerder) Health(ctx context.Context) (string, string) {
	status, msg := h.Herder.Health(ctx)
	if status != "healthy" {
		return status, msg
	}
	if full := h.store.Full(); full != "" {
		return "unhealthy", strings.ToUpper(full[:1]) + full[1:] + "."
	}
	return status, msg
}
