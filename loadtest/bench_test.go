package loadtest

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/perpx/perpx/wire"
)

// hotPath returns one step of the generator's own work per request, NATS
// aside: a trader builds the body, the pipe books it, the reply is read
// and matched.
func hotPath(tb testing.TB) func() {
	syms, err := compileSymbols(DemoSymbols())
	if err != nil {
		tb.Fatal(err)
	}
	var mark atomic.Int64
	mark.Store(300000)
	a := acct{name: "bench", place: "px.acct.bench.order.place", cancel: "px.acct.bench.order.cancel",
		sym: syms[0], mark: &mark, rng: rand.New(rand.NewPCG(1, 1))}
	traders := []trader{newMaker(a, MMConfig{}.withDefaults()), &taker{acct: a, notional: 500, ctl: &control{}},
		&canceler{acct: a, notional: 500}, &levered{acct: a, ctl: &control{}, side: wire.Buy, step: 1000, roundOrders: 5, buildOrders: 5, holdOffBps: 500}}
	p := newPending(func() int64 { return 1000 }, 1<<10)
	reply := wire.AppendOrderReply(nil, &wire.Order{OrderID: "1", Status: wire.StatusNew})
	buf := make([]byte, 0, 512)
	i := 0
	return func() {
		k, _, body := traders[i%len(traders)].next(buf[:0])
		p.complete(p.register(k, 0), 1000, classify(reply))
		buf = body[:0]
		i++
	}
}

// The one allocation per request is nats.go's reply subject string,
// outside this path.
func TestHotPathDoesNotAllocate(t *testing.T) {
	step := hotPath(t)
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}

func BenchmarkHotPath(b *testing.B) {
	step := hotPath(b)
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}
