package actors

import (
	"fmt"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/adl"
	"os"
	"slices"
	"strconv"
	"testing"
)

// prefix is a journal of j's first n records, as a crash after the n-th
// leaves it.
func (j *memJournal) prefix(n int) *memJournal {
	j.mu.Lock()
	defer j.mu.Unlock()
	return &memJournal{recs: slices.Clone(j.recs[:n]), durable: uint64(n)}
}

// TestReplayCrashMidRun (PERPX_CRASH_CUTS=n: n−1 cuts, 12 by default): the
// socialized soak (escrows, refunds, legs' funding) durably, then a restart from the journal cut at points of the
// run, in the middle of whatever was in flight (liquidations collecting or
// holding an escrow among them): the recovered exchange finishes what was
// in flight with every invariant held (audit), and its journal, prefix and
// what it wrote since, replays to the same state. Before resume held the
// mailboxes while it posted what was in flight, the restarted exchange's
// ADL ranking could end a report short (open interest 39915 long, 40042
// short) where the replay had it whole: most runs failed a cut.
func TestReplayCrashMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak and its restarts")
	}
	cuts := 13
	if n, err := strconv.Atoi(os.Getenv("PERPX_CRASH_CUTS")); err == nil { // a longer hunt
		cuts = n
	}
	syms := socializedDemo(t)
	j := &memJournal{}
	live := soakRun(t, j, syms, 4, "0", 3)
	t.Logf("live ranking [count long, short, open interest long, short] per symbol: %s", adlOf(t, live.e))
	last := int(j.Last())
	inFlight := 0
	for k := 1; k < cuts; k++ {
		n := last * k / cuts
		p := j.prefix(n)
		e := newEnvWith(t, p, syms...)
		if r := call(t, func(d func(AuditReport)) { e.x.audit(d) }); r.Liquidating != 0 {
			inFlight++
		}
		if r := e.audit(); r.Liquidating != 0 {
			t.Fatalf("cut at %d: %v", n, r)
		}
		want := e.hash()
		again := newEnvWith(t, p.clone(), syms...)
		again.audit()
		if got := again.hash(); got != want {
			t.Logf("differ: %v", diffHashes(again.hashParts(), e.hashParts()))
			t.Logf("adl restarted %s, replayed %s", adlOf(t, e), adlOf(t, again))
			t.Fatalf("cut at %d of %d: the restarted exchange's journal replays to %x, it is at %x", n, last, got, want)
		}
	}
	t.Logf("%d cuts, %d with a liquidation in flight at the restart", cuts-1, inFlight)
}

type anyHook struct{ fn func(any) }

func (*anyHook) uncounted() {}

func init() {
	testMiddleware = append(testMiddleware, func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			if h, ok := env.Message.(*anyHook); ok {
				h.fn(inner(c.Actor()))
				return
			}
			next(c, env)
		}
	})
}

func adlOf(t *testing.T, x *env) string {
	return call(t, func(d func(string)) {
		x.x.root.Send(x.x.adl, &anyHook{fn: func(aa any) {
			a := aa.(*adlActor)
			out := ""
			for _, rk := range a.ranks {
				out += fmt.Sprintf(" [%d %d %d %d]", rk.Count(adl.Long), rk.Count(adl.Short), rk.OpenInterest(adl.Long), rk.OpenInterest(adl.Short))
			}
			d(out)
		}})
	})
}
