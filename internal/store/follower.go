package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reads in a cluster. A log's direct gets ($JS.API.DIRECT.GET) are
// answered by any of its replicas, and NATS hands a request to a
// subscriber on the requester's own server first, so a node holding a
// follower replica reads its own copy. JetStream acknowledges a write
// once a quorum has stored it and the leader has applied it; a follower
// applies it only when it next hears the commit from the leader, and a
// follower rejoining after an absence answers direct gets once it is 90%
// caught up (nats-server 2.15 stream.go and jetstream_cluster.go,
// monitorStream). nats-server declares a "min last sequence" error for
// direct gets but does not implement it. So a follower can answer a read
// without the last acknowledged writes, and report itself at the tip.
//
// A follower's copy is always a prefix of the leader's: what it returns
// is right, only possibly short. A read that did not reach the
// replica's tip needs nothing more. A read that did asks the log's
// leader for its last sequence (a stream info request, which only the
// leader answers) and, if the leader has more, fetches the rest from the
// leader one message at a time ($JS.API.STREAM.MSG.GET, also answered
// by the leader only). The metadata bucket has no direct gets at all in
// a cluster (openBucket), so each of its reads goes to its leader.

// maxLeaderFill bounds the messages a read fetches from the leader one by
// one; past it the read reports the rest as pending, and the reader's
// next read finds them, by then usually on its own replica.
const maxLeaderFill = 64

// catchUp completes a read that reached the end of a replica's copy of
// the log with what the leader has beyond it.
func (s *Store) catchUp(ctx context.Context, name string, req readRequest, res ReadResult) (ReadResult, error) {
	last, err := s.leaderLastSeq(ctx, name)
	if isShared(name) {
		last, err = s.leaderLastOf(ctx, name)
	}
	if err != nil {
		return res, fmt.Errorf("read %s: %w", name, err)
	}
	next, byTime := req.Seq, req.StartTime
	var size int
	if n := len(res.Messages); n > 0 {
		next, byTime = res.Messages[n-1].Seq+1, nil
		for _, m := range res.Messages {
			size += len(m.Data)
		}
	}
	for fills := 0; next <= last && len(res.Messages) < max(req.Batch, 1) && size < req.MaxBytes; fills++ {
		if fills == maxLeaderFill {
			break
		}
		m, err := s.leaderGet(ctx, name, msgGetRequest{Seq: next, StartTime: byTime, NextFor: logSubject(name)})
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("read %s: %w", name, err)
		}
		if m.Seq > last {
			last = m.Seq // written since the leader was asked
		}
		res.Messages = append(res.Messages, m)
		size += len(m.Data)
		next, byTime = m.Seq+1, nil
	}
	res.Pending = 0
	if n := len(res.Messages); n > 0 && res.Messages[n-1].Seq < last {
		res.Pending = last - res.Messages[n-1].Seq // for a shared log, not a count: only > 0 matters
	}
	return res, nil
}

// leaderLastSeq is the last sequence the log's leader has stored: every
// acknowledged write is at or below it.
func (s *Store) leaderLastSeq(ctx context.Context, name string) (uint64, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return 0, err
	}
	st, err := c.js.Stream(ctx, name)
	if err != nil {
		return 0, s.leaderless(mapNotFound(err))
	}
	return st.CachedInfo().State.LastSeq, nil
}

// leaderLastOf is the sequence of a shared log's last message on its
// stream's leader (0 for none).
func (s *Store) leaderLastOf(ctx context.Context, name string) (uint64, error) {
	m, err := s.leaderGet(ctx, name, msgGetRequest{LastFor: logSubject(name)})
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	return m.Seq, err
}

// leaderless marks the errors of a request no leader answered (one is
// being elected) as ErrUnavailable: the caller may retry.
func (s *Store) leaderless(err error) error {
	var ae *jetstream.APIError
	switch {
	case errors.Is(err, ErrNotFound):
		return err
	case errors.As(err, &ae) && (ae.ErrorCode == 10008 || ae.Code == 503), // JSClusterNotAvailErr
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrJetStreamNotEnabled):
		return fmt.Errorf("%w: no answer from the log's leader: %w", ErrUnavailable, err)
	}
	return err
}

// msgGetRequest is JetStream's (non-direct) message get request.
type msgGetRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	LastFor   string     `json:"last_by_subj,omitempty"`
}

// msgGetResponse is its answer.
type msgGetResponse struct {
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
	Message *struct {
		Sequence uint64    `json:"seq"`
		Data     []byte    `json:"data"`
		Time     time.Time `json:"time"`
	} `json:"message"`
}

// leaderGet reads one message through the log's leader; ErrNotFound when
// there is none that matches.
func (s *Store) leaderGet(ctx context.Context, name string, req msgGetRequest) (Message, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return Message{}, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Message{}, err
	}
	m, err := c.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+LogStream(name), body)
	if err != nil {
		return Message{}, s.leaderless(err)
	}
	var resp msgGetResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return Message{}, fmt.Errorf("leader get: %w", err)
	}
	switch {
	case resp.Error != nil && (resp.Error.ErrCode == 10037 || resp.Error.ErrCode == 10059): // no message, no stream
		return Message{}, ErrNotFound
	case resp.Error != nil && (resp.Error.ErrCode == 10008 || resp.Error.Code == 503):
		return Message{}, fmt.Errorf("%w: %s", ErrUnavailable, resp.Error.Description)
	case resp.Error != nil:
		return Message{}, fmt.Errorf("leader get: %s (%d)", resp.Error.Description, resp.Error.ErrCode)
	case resp.Message == nil:
		return Message{}, errors.New("leader get: empty answer")
	}
	return Message{Seq: resp.Message.Sequence, Time: resp.Message.Time.UTC(), Data: resp.Message.Data}, nil
}
