package store

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// What the store's external tests (package store_test, which use
// storetest and so cannot be in package store) need of its insides.

// MetaStream is the JetStream stream behind the metadata bucket.
const MetaStream = metaStream

// StreamInfo is JetStream's view of a log or of the metadata bucket.
func (s *Store) StreamInfo(ctx context.Context, name string) (*jetstream.StreamInfo, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	st, err := c.js.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	return st.CachedInfo(), nil
}

// ReplicaGet is a read answered by whichever replica NATS picks, with no
// check against the leader (follower.go).
func (s *Store) ReplicaGet(ctx context.Context, name string, seq uint64, batch, maxBytes int) (ReadResult, error) {
	return s.replicaGet(ctx, name, readRequest{Seq: seq, Batch: batch, MaxBytes: maxBytes})
}

// MetaDir is where the metadata bucket's files are.
func (s *Store) MetaDir() string { return s.metaDir() }

// RoutedTo says whether the embedded server has a route to the node
// named name.
func (s *Store) RoutedTo(name string) (bool, error) {
	rz, err := s.ns.Routez(nil)
	if err != nil {
		return false, err
	}
	for _, r := range rz.Routes {
		if r.RemoteName == name {
			return true, nil
		}
	}
	return false, nil
}

// ClientAccess is the embedded server's client URL and the credentials
// of the store's own connection, to use the node as a user's NATS server.
func (s *Store) ClientAccess() (url, user, password string) {
	return s.ns.ClientURL(), s.opts.Username, s.opts.Password
}
