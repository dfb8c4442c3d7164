package bench

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/perpx/perpx/gateway"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/wire"
)

// instantCore answers order.place and order.cancel with the order the
// request describes, at once: the exchange with a core that costs nothing.
// Everything else is the embedded nil interface's (never called here).
type instantCore struct {
	gateway.Exchange
	ids  atomic.Uint64
	jobs chan func() // nil: answer on the gateway's goroutine
}

func (c *instantCore) answer(f func()) {
	if c.jobs == nil {
		f()
		return
	}
	c.jobs <- f
}

func (c *instantCore) PlaceOrder(acct string, r wire.PlaceOrder, done func(wire.OrderReply)) {
	id := c.ids.Add(1)
	c.answer(func() {
		o := wire.Order{OrderID: strconv.FormatUint(id, 10), ClientOrderID: r.ClientOrderID, Account: acct, Symbol: r.Symbol,
			Side: r.Side, Type: r.Type, Price: r.Price, Qty: r.Qty, Status: wire.StatusNew, TIF: wire.GTC}
		done(wire.OrderReply{Reply: wire.OK(), Order: &o})
	})
}

func (c *instantCore) CancelOrder(acct string, r wire.Cancel, done func(wire.OrderReply)) {
	c.answer(func() {
		o := wire.Order{OrderID: r.OrderID, ClientOrderID: r.ClientOrderID, Account: acct, Symbol: r.Symbol,
			Side: wire.Buy, Type: wire.Limit, Status: wire.StatusCanceled, TIF: wire.GTC}
		done(wire.OrderReply{Reply: wire.OK(), Order: &o})
	})
}

// BenchmarkNATSGatewayFloor: BenchmarkNATSOrders' clients and requests
// against the real gateway (micro endpoints, decoding, rate-limit and
// reply-subject checks, fair intake, reply encoding) on the embedded
// server, in front of a core that answers at once: what the exchange's
// NATS path costs without its actors, so its ratio to BenchmarkNATSEcho
// bounds what any core could reach (issue 21). inline answers on the
// gateway's goroutine; handoff through one goroutine fed by a channel,
// the shape of a single sequenced core.
func BenchmarkNATSGatewayFloor(b *testing.B) {
	for _, handoff := range []bool{false, true} {
		name := "inline"
		if handoff {
			name = "handoff"
		}
		b.Run(name, func(b *testing.B) {
			srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1"})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(srv.Shutdown)
			nc, err := srv.Connect("perpx")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(nc.Close)
			sc, err := srv.Connect("perpx-gateway")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(sc.Close)
			core := &instantCore{}
			if handoff {
				core.jobs = make(chan func(), 4096)
				go func() {
					for f := range core.jobs {
						f()
					}
				}()
				b.Cleanup(func() { close(core.jobs) })
			}
			g, err := gateway.Start(nc, core, gateway.Options{Service: sc})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = g.Stop(b.Context()) })
			benchNATSAt(b, 4, 256, srv.ClientURL(), serverStats{})
		})
	}
}
