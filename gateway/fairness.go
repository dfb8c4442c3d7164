package gateway

import (
	"sync"
	"sync/atomic"

	"github.com/perpx/perpx/wire"
)

// Fairness between accounts (issue 14): the exchange serves every account
// from shared actors (a symbol's book, the fund, the ADL ranking) and one
// subscription per endpoint, so one account's backlog would be everyone's.
// The gateway bounds what any one requester may have in the exchange at
// once: an account's requests in flight (orders, cancels, state reads,
// anything on its subjects) and, per symbol, the public reads (depth, ADL
// queue) that cost the symbol's actors the most. A request over its bound
// is refused at once with RATE_LIMITED, which costs the exchange a few
// microseconds; the requester that waits for its replies never meets it.
const (
	// DefaultMaxInflight is an account's bound on requests in flight: a
	// bot may pipeline this many (more wait in the intake's queue).
	DefaultMaxInflight = 1024
	// DefaultMaxPublicInflight bounds the public reads in flight per
	// subject (a symbol's depth, its ADL queue, the fund's state).
	DefaultMaxPublicInflight = 32
)

// fairness holds the counters; a nil *fairness admits everything.
type fairness struct {
	account, public int64
	accounts        sync.Map // account -> *atomic.Int64
	publics         sync.Map // subject key -> *atomic.Int64
}

func newFairness(account, public int) *fairness {
	if account <= 0 {
		account = DefaultMaxInflight
	}
	if public <= 0 {
		public = DefaultMaxPublicInflight
	}
	return &fairness{account: int64(account), public: int64(public)}
}

// admit takes a slot for a request routed to rt, or returns nil and the
// refusal. The slot is given back with release once the request is
// answered (or refused later).
func (f *fairness) admit(rt wire.Route) (*atomic.Int64, *wire.Error) {
	if f == nil {
		return nil, nil
	}
	m, key, limit := &f.accounts, rt.Account, f.account
	if key == "" {
		m, key, limit = &f.publics, rt.Endpoint.String()+" "+rt.Symbol, f.public
	}
	v, ok := m.Load(key)
	if !ok {
		v, _ = m.LoadOrStore(key, new(atomic.Int64))
	}
	n := v.(*atomic.Int64)
	if n.Add(1) > limit {
		n.Add(-1)
		if rt.Account != "" {
			return nil, wire.Errorf(wire.CodeRateLimited, "account %s has %d requests in flight: wait for their replies", rt.Account, limit)
		}
		return nil, wire.Errorf(wire.CodeRateLimited, "%d %s requests are in flight: retry later", limit, rt.Endpoint)
	}
	return n, nil
}

// release gives a slot back (nil: none was taken).
func release(n *atomic.Int64) {
	if n != nil {
		n.Add(-1)
	}
}
