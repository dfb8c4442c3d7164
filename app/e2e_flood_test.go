package app_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// floodFigures is what a flood did to an ordinary account.
type floodFigures struct {
	sent          int
	p50, p99, max time.Duration
	victims       int
	heapMiB       float64
}

// flood runs one hostile account's flood against the exchange while a
// victim account places and cancels orders one at a time, and returns the
// victim's round trips. The hostile account holds openOrders resting
// orders (so its state is large) and sends n requests as fast as one
// connection can publish, never reading a reply: a third orders, a third
// state reads, a third 1 000-level depth reads.
// floodSpec shapes a flood: how many hostile accounts (each on its own
// connection, n split between them), whether they read their replies, and
// whether connections churn meanwhile (300 connect, ask, close).
type floodSpec struct {
	accounts int
	read     bool
	churn    bool
}

func flood(t *testing.T, e *exchange, openOrders, n int, spec floodSpec) floodFigures {
	t.Helper()
	mustOK(t, "index", request[wire.IndexReply](t, e.nc, e.subj.AdminIndex("BTC-PERP"), wire.IndexSet{Price: decimal.RequireFromString("30000")}).Reply)
	e.deposit("victim", "1000000")
	var names []string
	for h := range spec.accounts {
		name := fmt.Sprint("mallory", h)
		names = append(names, name)
		e.deposit(name, "100000000")
		for i := range openOrders / spec.accounts {
			r := e.trader(name).place(wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC,
				Price: decimal.NewFromInt(int64(28000 + i)), Qty: decimal.RequireFromString("0.001")})
			mustOK(t, "mallory's order", r.Reply)
		}
	}
	victim := e.trader("victim")
	place, _ := json.Marshal(wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC,
		Price: decimal.RequireFromString("28500"), Qty: decimal.RequireFromString("0.001")})
	depth, _ := json.Marshal(wire.Depth{Levels: 1000})
	var rtts []time.Duration
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			o := victim.place(wire.PlaceOrder{Symbol: "BTC-PERP", Side: wire.Buy, Type: wire.Limit, TIF: wire.GTC,
				Price: decimal.RequireFromString("29000"), Qty: decimal.RequireFromString("0.001")})
			if !o.OK {
				t.Errorf("victim's order: %+v", o.Error)
				return
			}
			rtts = append(rtts, time.Since(t0))
			if d := time.Since(t0); d > 50*time.Millisecond && testing.Verbose() {
				t.Logf("slow place %v at %v", d, time.Now().Format("15:04:05.000"))
			}
			t0 = time.Now()
			if r := victim.cancel(wire.Cancel{Symbol: "BTC-PERP", OrderID: o.Order.OrderID}); !r.OK {
				t.Errorf("victim's cancel: %+v", r.Error)
				return
			}
			rtts = append(rtts, time.Since(t0))
			time.Sleep(5 * time.Millisecond)
		}
	})
	time.Sleep(200 * time.Millisecond)
	if testing.Verbose() {
		t.Logf("flood starts %v", time.Now().Format("15:04:05.000"))
	}
	var heap atomic.Int64 // MiB
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		for {
			h := heap.Load()
			if int64(ms.HeapInuse>>20) <= h || heap.CompareAndSwap(h, int64(ms.HeapInuse>>20)) {
				return
			}
		}
	}
	var replies atomic.Int64
	var fl sync.WaitGroup
	for _, name := range names {
		hostile := connect(t, e.app.URL())
		inbox := "_INBOX.nobody." + name
		if spec.read {
			if _, err := hostile.Subscribe(inbox, func(*nats.Msg) { replies.Add(1) }); err != nil {
				t.Fatal(err)
			}
		}
		fl.Go(func() {
			for i := range n / len(names) {
				var err error
				switch i % 3 {
				case 0:
					err = hostile.PublishRequest(e.subj.OrderPlace(name), inbox, place)
				case 1:
					err = hostile.PublishRequest(e.subj.State(name), inbox, []byte("{}"))
				default:
					err = hostile.PublishRequest(e.subj.Depth("BTC-PERP"), inbox, depth)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%10000 == 0 {
					sample()
				}
			}
			if err := hostile.Flush(); err != nil {
				t.Error(err)
			}
		})
	}
	if spec.churn {
		fl.Go(func() {
			for range 300 {
				nc, err := nats.Connect(e.app.URL())
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = nc.Request(e.subj.State("churner"), []byte("{}"), 50*time.Millisecond)
				nc.Close()
			}
		})
	}
	fl.Wait()
	if testing.Verbose() {
		t.Logf("flood sent %v", time.Now().Format("15:04:05.000"))
	}
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	sample()
	if spec.read && replies.Load() == 0 {
		t.Error("the hostile accounts read no reply")
	}
	slices.Sort(rtts)
	if len(rtts) == 0 {
		t.Fatal("the victim got no reply")
	}
	q := func(p float64) time.Duration { return rtts[int(p*float64(len(rtts)-1))] }
	return floodFigures{sent: n, p50: q(0.5), p99: q(0.99), max: rtts[len(rtts)-1], victims: len(rtts), heapMiB: float64(heap.Load())}
}

// TestE2EFloodFairness: floods (orders, state reads of ~1 000 open
// orders, 1 000-level depth reads; 100 000 requests) from one account that
// never reads its replies, from ten at once reading theirs, and from one
// while connections churn, leave the exchange alive and other accounts
// served: their round trips stay bounded, memory too, the audit holds.
func TestE2EFloodFairness(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec floodSpec
	}{
		{"one account, replies unread", floodSpec{accounts: 1}},
		{"ten accounts reading replies", floodSpec{accounts: 10, read: true}},
		{"one account and connection churn", floodSpec{accounts: 1, churn: true}},
	} {
		t.Run(tc.name, func(t *testing.T) { floodFairness(t, tc.spec) })
	}
}

func floodFairness(t *testing.T, spec floodSpec) {
	e := start(t, config.Default(), startOpts{})
	// p99 2 s: other jobs on the two cores (a developer's machine, a test
	// run beside it) took it to 0.7–1.5 s; the fault it guards against
	// left the victim timing out (10 s).
	n, open, p99, worst := 100_000, 1000, 2*time.Second, 5*time.Second
	if raceEnabled {
		// The race detector makes every request many times dearer and the
		// two cores are shared with the flooders: only liveness is checked.
		n, open, p99, worst = 2_000, 100, 20*time.Second, 20*time.Second
	}
	f := flood(t, e, open, n, spec)
	t.Logf("flood of %d: victim's %d round trips p50 %v p99 %v max %v; heap up to %.0f MiB",
		f.sent, f.victims, f.p50, f.p99, f.max, f.heapMiB)
	// Loose bounds, for CI under the race detector on two cores: before the
	// intake and the bounds in flight the victim timed out (10 s) and the
	// exchange was still working through the flood 30 s later. The
	// figures on a quiet machine are in bench/README.md.
	if f.p99 > p99 || f.max > worst {
		t.Fatalf("the victim's round trips p99 %v, max %v", f.p99, f.max)
	}
	if f.heapMiB > 512 {
		t.Fatalf("heap grew to %.0f MiB", f.heapMiB)
	}
	e.settledAudit()
}
