package actors

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/wire"
)

// An actor that sees a broken invariant panics (never logs and carries
// on): its supervisor takes it out of service with the reason. A failed
// account only stops itself (registry.go). A failed singleton — the fund,
// the ADL actor or a symbol's book — holds a ledger everyone shares, so
// the exchange halts: new orders are refused INTERNAL with the reason,
// cancels still go through, and the audit lists the failure and fails.

// failures is the exchange's record of the parts taken out of service.
type failures struct {
	mu   sync.Mutex
	list []wire.Failure
	// halted is the first singleton failure's reason, nil while trading.
	halted atomic.Pointer[string]
}

func (f *failures) add(who, reason string, halt bool) {
	f.mu.Lock()
	f.list = append(f.list, wire.Failure{Actor: who, Reason: reason})
	f.mu.Unlock()
	if halt {
		f.halted.CompareAndSwap(nil, &reason)
	}
}

func (f *failures) all() []wire.Failure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wire.Failure{}, f.list...)
}

// haltError is the refusal of a halted exchange, nil while trading.
func (x *Exchange) haltError() *wire.Error {
	if r := x.failed.halted.Load(); r != nil {
		return wire.Errorf(wire.CodeInternal, "trading is halted after an internal error: %s", *r)
	}
	return nil
}

// guard runs a singleton actor until it fails, then answers its requests
// INTERNAL and drops the rest; audits and probes still read its frozen
// state.
type guard struct {
	actor.Actor
	name   string
	failed atomic.Bool
}

func (g *guard) Receive(ctx actor.Context) {
	if !g.failed.Load() {
		g.Actor.Receive(ctx)
		return
	}
	if f, ok := g.Actor.(interface{ refuseFailed(actor.Context) bool }); ok && f.refuseFailed(ctx) {
		return
	}
	switch m := ctx.Message().(type) {
	case *probeMsg, *auditMsg, *hashMsg:
		g.Actor.Receive(ctx)
	case refusable:
		m.refuse(wire.Errorf(wire.CodeInternal, "%s is out of service after an internal error", g.name))
	}
}

// singletonSupervisor takes a failed singleton out of service (guard) and
// halts the exchange.
type singletonSupervisor struct {
	x *Exchange
	g *guard
}

func (s *singletonSupervisor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, message any) {
	first := !s.g.failed.Swap(true)
	s.x.log.Error("actors: a shared actor failed; trading is halted", "actor", s.g.name, "reason", reason)
	if first {
		s.x.failed.add(s.g.name, fmt.Sprint(reason), true)
	}
	if r, ok := message.(refusable); ok {
		r.refuse(wire.Errorf(wire.CodeInternal, "internal error in %s", s.g.name))
	} else if first {
		switch message.(type) {
		case *placeMsg, *amendMsg, *cancelMsg, *cancelIDsMsg: // answered by the failed book (refuseFailed)
			// relay: the panicking message is still in flight, so a
			// snapshot holding the gate would wait for this post.
			s.x.relay(child, message)
		}
	}
	sup.ResumeChildren(child)
}
