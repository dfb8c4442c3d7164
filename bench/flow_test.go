package bench

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The shared flow, per pair of accounts (a buys, b sells), four requests a
// cycle: a buy at the touch, a sell at the touch that fills it, a far buy
// that rests, and the cancel of the far buy placed one cycle earlier (long
// out of any pipelining window, so ordering across subjects never matters).
// A client order id comes back every flowGens cycles, long after its cancel
// (a place that overtakes a pending cancel of its id is a duplicate).
// Half the places trade and the book stays small, as in a busy market.
const (
	flowSymbol = "BTC-PERP"
	flowPrice  = 300000 // ticks of 0.1: 30000.0
	flowFar    = 290000
	flowQty    = 1 // lots of 0.001
	flowPairs  = 64
	flowGens   = 256
)

type op struct {
	acct   int // account index: 2×pair (buyer) or 2×pair+1 (seller)
	cancel bool
	side   book.Side
	price  book.Ticks
	coid   string
}

// flowOps is the whole repeating flow: flowGens cycles of every pair.
func flowOps() []op {
	var ops []op
	for k := 0; k < flowGens; k++ {
		for p := 0; p < flowPairs; p++ {
			a, b := 2*p, 2*p+1
			ops = append(ops,
				op{acct: a, side: book.Buy, price: flowPrice},
				op{acct: b, side: book.Sell, price: flowPrice},
				op{acct: a, side: book.Buy, price: flowFar, coid: fmt.Sprintf("far%d-%d", p, k)},
				op{acct: a, cancel: true, coid: fmt.Sprintf("far%d-%d", p, (k+flowGens-1)%flowGens)},
			)
		}
	}
	return ops
}

func acctName(i int) string { return fmt.Sprintf("bench-%d", i) }

const flowAccounts = 2 * flowPairs

var (
	tick = decimal.New(1, -1)
	lot  = decimal.New(1, -3)
)

func (o op) place() wire.PlaceOrder {
	side := wire.Buy
	if o.side == book.Sell {
		side = wire.Sell
	}
	return wire.PlaceOrder{
		Symbol: flowSymbol, Side: side, Type: wire.Limit, TIF: wire.GTC,
		Price: decimal.NewFromInt(int64(o.price)).Mul(tick), Qty: decimal.NewFromInt(flowQty).Mul(lot),
		ClientOrderID: o.coid,
	}
}

func (o op) cancelReq() wire.Cancel { return wire.Cancel{Symbol: flowSymbol, ClientOrderID: o.coid} }

// outcome counts replies by error code ("" = ok).
type outcome struct {
	replies atomic.Int64
	unknown atomic.Int64 // UNKNOWN_ORDER: the first cycle's cancels
	other   atomic.Int64
	last    atomic.Value
}

func (c *outcome) record(err *wire.Error) {
	c.replies.Add(1)
	switch {
	case err == nil:
	case err.Code == wire.CodeUnknownOrder:
		c.unknown.Add(1)
	default:
		c.other.Add(1)
		c.last.Store(err.Code)
	}
}

// check fails the benchmark when anything but the expected first-cycle
// UNKNOWN_ORDER came back: a benchmark of rejections measures nothing.
func (c *outcome) check(b *testing.B) {
	b.Helper()
	if n := c.other.Load(); n > 0 {
		b.Fatalf("%d unexpected rejections, last %v", n, c.last.Load())
	}
	if n := c.unknown.Load(); n > flowPairs {
		b.Fatalf("%d UNKNOWN_ORDER replies, want at most the first cycle's %d", n, flowPairs)
	}
}

// clock is the start of a timed loop: wall time and the process's CPU time
// (every goroutine, the load generator and the embedded server included).
type clock struct {
	wall time.Time
	cpu  time.Duration
}

func startClock() clock { return clock{wall: time.Now(), cpu: cpuTime()} }

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report sets the orders/s metric from the wall time of the timed loop and
// cpu-ns/op from the CPU time it took: on a shared machine wall time is
// noisy, CPU per order much less so.
func report(b *testing.B, start clock) {
	b.ReportMetric(float64(b.N)/time.Since(start.wall).Seconds(), "orders/s")
	b.ReportMetric(float64(cpuTime()-start.cpu)/float64(b.N), "cpu-ns/op")
}
