package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tributary-data/tributary/internal/store"
)

// TestHealthStorageDown checks that /health answers 503 and names the
// storage when JetStream is gone, and 200 while it is up.
func TestHealthStorageDown(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Config{Addr: "127.0.0.1:0", Store: store.Config{InMemory: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	for _, tc := range []struct {
		name        string
		before      func()
		wantCode    int
		wantStatus  string
		wantStorage string
	}{
		{"up", func() {}, http.StatusOK, "ok", "ok"},
		{"storage closed", func() { _ = s.store.Close() }, http.StatusServiceUnavailable, "unavailable", "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.before()
			resp, err := http.Get("http://" + s.Addr() + "/health")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var h Health
			if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode || h.Status != tc.wantStatus || h.Storage.Status != tc.wantStorage ||
				h.Connect.Status != "disabled" {
				t.Fatalf("GET /health = %d %+v", resp.StatusCode, h)
			}
			if tc.wantCode != http.StatusOK && h.Storage.Error == "" {
				t.Errorf("unavailable storage without an error: %+v", h)
			}
		})
	}
}
