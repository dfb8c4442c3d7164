// Package floor runs the exchange's NATS path with a core that costs
// nothing: the embedded server, the real gateway (micro endpoints,
// decoding, rate-limit and reply checks, the fair intake, reply encoding,
// its own subscription connection, as app wires it) in front of Core,
// which answers every request at once. Measured beside the bare echo
// (natsrv.StartEcho) it bounds what any core behind this gateway could
// reach on the machine (issue 21; bench's BenchmarkNATSGatewayFloor,
// cmd/loadtest --embedded --echo gateway).
package floor

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/perpx/perpx/gateway"
	"github.com/perpx/perpx/natsrv"
	"github.com/perpx/perpx/wire"
)

// Core answers every request of gateway.Exchange at once with an ok
// reply: a place or cancel with the order it describes, an audit that
// holds, everything else bare. With Handoff the answers come from one
// goroutine fed by a channel, as the Exchange contract says (another
// goroutine) and as a single sequenced core would; else on the caller's.
type Core struct {
	ids  atomic.Uint64
	jobs chan func()
}

// NewCore returns a Core; with handoff, Stop ends its goroutine.
func NewCore(handoff bool) *Core {
	c := &Core{}
	if handoff {
		c.jobs = make(chan func(), 4096)
		go func() {
			for f := range c.jobs {
				f()
			}
		}()
	}
	return c
}

// Stop ends the hand-off goroutine (none: nothing).
func (c *Core) Stop() {
	if c.jobs != nil {
		close(c.jobs)
	}
}

func (c *Core) answer(f func()) {
	if c.jobs == nil {
		f()
		return
	}
	c.jobs <- f
}

// ok answers done with a bare ok reply of type R.
func ok[R any](c *Core, done func(R), set func(*R)) {
	c.answer(func() {
		var r R
		set(&r)
		done(r)
	})
}

func (c *Core) order(acct string, o wire.Order, done func(wire.OrderReply)) {
	o.Account = acct
	ok(c, done, func(r *wire.OrderReply) { r.Reply, r.Order = wire.OK(), &o })
}

func (c *Core) PlaceOrder(acct string, r wire.PlaceOrder, done func(wire.OrderReply)) {
	c.order(acct, wire.Order{OrderID: strconv.FormatUint(c.ids.Add(1), 10), ClientOrderID: r.ClientOrderID, Symbol: r.Symbol,
		Side: r.Side, Type: r.Type, Price: r.Price, Qty: r.Qty, Status: wire.StatusNew, TIF: wire.GTC}, done)
}

func (c *Core) CancelOrder(acct string, r wire.Cancel, done func(wire.OrderReply)) {
	c.order(acct, wire.Order{OrderID: r.OrderID, ClientOrderID: r.ClientOrderID, Symbol: r.Symbol,
		Side: wire.Buy, Type: wire.Limit, Status: wire.StatusCanceled, TIF: wire.GTC}, done)
}

func (c *Core) AmendOrder(acct string, r wire.Amend, done func(wire.OrderReply)) {
	c.order(acct, wire.Order{OrderID: r.OrderID, ClientOrderID: r.ClientOrderID, Symbol: r.Symbol,
		Side: wire.Buy, Type: wire.Limit, Price: r.Price, Qty: r.Qty, Status: wire.StatusNew, TIF: wire.GTC}, done)
}

func (c *Core) CancelAll(_ string, _ wire.CancelAll, done func(wire.CancelAllReply)) {
	ok(c, done, func(r *wire.CancelAllReply) { r.Reply = wire.OK() })
}

func (c *Core) CancelAllAfter(_ string, _ wire.CancelAllAfter, done func(wire.CancelAllAfterReply)) {
	ok(c, done, func(r *wire.CancelAllAfterReply) { r.Reply = wire.OK() })
}

func (c *Core) SetLeverage(_ string, _ wire.Leverage, done func(wire.LeverageReply)) {
	ok(c, done, func(r *wire.LeverageReply) { r.Reply = wire.OK() })
}

func (c *Core) SetMarginMode(_ string, _ wire.MarginMode, done func(wire.MarginModeReply)) {
	ok(c, done, func(r *wire.MarginModeReply) { r.Reply = wire.OK() })
}

func (c *Core) MovePositionMargin(_ string, _ wire.PositionMargin, done func(wire.PositionMarginReply)) {
	ok(c, done, func(r *wire.PositionMarginReply) { r.Reply = wire.OK() })
}

func (c *Core) Withdraw(_ string, _ wire.Withdraw, done func(wire.BalanceReply)) {
	ok(c, done, func(r *wire.BalanceReply) { r.Reply = wire.OK() })
}

func (c *Core) AccountState(_ string, _ wire.State, done func(wire.AccountReply)) {
	ok(c, done, func(r *wire.AccountReply) { r.Reply = wire.OK() })
}

func (c *Core) OpenOrders(_ string, _ wire.State, done func(wire.OrdersReply)) {
	ok(c, done, func(r *wire.OrdersReply) { r.Reply = wire.OK() })
}

func (c *Core) Deposit(_ wire.Deposit, done func(wire.BalanceReply)) {
	ok(c, done, func(r *wire.BalanceReply) { r.Reply = wire.OK() })
}

func (c *Core) SetIndex(_ string, _ wire.IndexSet, done func(wire.IndexReply)) {
	ok(c, done, func(r *wire.IndexReply) { r.Reply = wire.OK() })
}

func (c *Core) FundDeposit(_ wire.FundDeposit, done func(wire.BalanceReply)) {
	ok(c, done, func(r *wire.BalanceReply) { r.Reply = wire.OK() })
}

func (c *Core) Depth(_ string, _ wire.Depth, done func(wire.DepthReply)) {
	ok(c, done, func(r *wire.DepthReply) { r.Reply = wire.OK() })
}

func (c *Core) FundState(_ wire.FundState, done func(wire.FundStateReply)) {
	ok(c, done, func(r *wire.FundStateReply) { r.Reply = wire.OK() })
}

func (c *Core) ADLQueue(_ string, _ wire.ADLQueue, done func(wire.ADLQueueReply)) {
	ok(c, done, func(r *wire.ADLQueueReply) { r.Reply = wire.OK() })
}

func (c *Core) Klines(_ string, _ wire.Klines, done func(wire.KlinesReply)) {
	ok(c, done, func(r *wire.KlinesReply) { r.Reply = wire.OK() })
}

func (c *Core) RecentTrades(_ string, _ wire.RecentTrades, done func(wire.RecentTradesReply)) {
	ok(c, done, func(r *wire.RecentTradesReply) { r.Reply = wire.OK() })
}

func (c *Core) AccountOrders(_ string, _ wire.Orders, done func(wire.OrdersReply)) {
	ok(c, done, func(r *wire.OrdersReply) { r.Reply = wire.OK() })
}

func (c *Core) Fills(_ string, _ wire.Fills, done func(wire.FillsReply)) {
	ok(c, done, func(r *wire.FillsReply) { r.Reply = wire.OK() })
}

func (c *Core) Income(_ string, _ wire.IncomeQuery, done func(wire.IncomeReply)) {
	ok(c, done, func(r *wire.IncomeReply) { r.Reply = wire.OK() })
}

func (c *Core) FundingHistory(_ string, _ wire.FundingHistory, done func(wire.FundingHistoryReply)) {
	ok(c, done, func(r *wire.FundingHistoryReply) { r.Reply = wire.OK() })
}

func (c *Core) FundDaily(_ wire.FundDaily, done func(wire.FundDailyReply)) {
	ok(c, done, func(r *wire.FundDailyReply) { r.Reply = wire.OK() })
}

func (c *Core) Ticker(_ string, done func(wire.TickerReply)) {
	ok(c, done, func(r *wire.TickerReply) { r.Reply = wire.OK() })
}

func (c *Core) OpenInterest(_ string, _ wire.OpenInterestReq, done func(wire.OpenInterestReply)) {
	ok(c, done, func(r *wire.OpenInterestReply) { r.Reply = wire.OK() })
}

func (c *Core) Audit(done func(wire.AuditReply)) {
	ok(c, done, func(r *wire.AuditReply) { r.Reply, r.InvariantsOK = wire.OK(), true })
}

func (c *Core) StateHash(done func(uint64)) { c.answer(func() { done(0) }) }

func (c *Core) StateHashAt(done func(wire.StateHashReply)) {
	ok(c, done, func(r *wire.StateHashReply) { r.Reply = wire.OK() })
}

func (c *Core) Resume(_ wire.Resume, done func(wire.ResumeReply)) {
	ok(c, done, func(r *wire.ResumeReply) { r.Reply = wire.OK() })
}

var _ gateway.Exchange = (*Core)(nil)

// Start runs the embedded server (a random loopback port, subjects under
// prefix, "" the default) and the gateway in front of a Core, the
// endpoints on a connection of their own and the replies on another, as
// app does. It returns the server's client URL and the function that
// stops everything.
func Start(prefix string, handoff bool) (url string, stop func(), err error) {
	srv, err := natsrv.Start(natsrv.Options{Listen: "127.0.0.1:-1", Prefix: prefix})
	if err != nil {
		return "", nil, err
	}
	core := NewCore(handoff)
	stops := []func(){srv.Shutdown, core.Stop}
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	fail := func(err error) (string, func(), error) {
		stop()
		return "", nil, fmt.Errorf("floor: %w", err)
	}
	nc, err := srv.Connect("perpx-floor")
	if err != nil {
		return fail(err)
	}
	stops = append(stops, nc.Close)
	sc, err := srv.Connect("perpx-floor-gateway")
	if err != nil {
		return fail(err)
	}
	stops = append(stops, sc.Close)
	g, err := gateway.Start(nc, core, gateway.Options{Prefix: prefix, Service: sc})
	if err != nil {
		return fail(err)
	}
	stops = append(stops, func() { _ = g.Stop(context.Background()) })
	return srv.ClientURL(), stop, nil
}
