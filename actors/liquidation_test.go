package actors

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

const tsym = "TEST-PERP"

// openPosition gives acct a position of qty at price against maker (who
// rests the opposite order first), after setting both leverages to lev.
func (e *env) openPosition(acct, maker string, side wire.Side, price, qty string, lev int64) {
	e.t.Helper()
	e.leverage(acct, tsym, lev)
	e.leverage(maker, tsym, lev)
	opp := wire.Sell
	if side == wire.Sell {
		opp = wire.Buy
	}
	e.mustPlace(maker, tsym, opp, price, qty)
	if o := e.mustPlace(acct, tsym, side, price, qty, wire.IOC); o.Status != wire.StatusFilled {
		e.t.Fatalf("opening %s %s@%s: %+v", side, qty, price, o)
	}
}

func (e *env) liquidations(acct string) int { return len(e.rec.events(acct, wire.EventLiquidation)) }

// TestDualPrice: a last trade far below the liquidation price does not
// liquidate while the mark stays above it; the mark crossing it does.
func TestDualPrice(t *testing.T) {
	e := newEnv(t, testSymbol(t, tsym, longTiers()...))
	e.index(tsym, "3750")
	e.deposit("alice", "750")
	for _, a := range []string{"bob", "carol", "dave"} {
		e.deposit(a, "100000")
	}
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	p := e.position("alice", tsym)
	if !p.LiquidationPrice.Equal(dec("3100")) || !p.BankruptcyPrice.Equal(dec("3000")) {
		t.Fatalf("liquidation %s, bankruptcy %s; want 3100, 3000", p.LiquidationPrice, p.BankruptcyPrice)
	}
	e.leverage("carol", tsym, 1) // a short opened 1750 under the mark
	e.leverage("dave", tsym, 5)
	e.mustPlace("carol", tsym, wire.Sell, "2000", "1")
	if o := e.mustPlace("dave", tsym, wire.Buy, "2000", "1", wire.IOC); o.Status != wire.StatusFilled {
		t.Fatalf("trade at 2000: %+v", o)
	}
	e.index(tsym, "3101")
	e.x.quiesce()
	if e.liquidations("alice") != 0 || e.position("alice", tsym) == nil {
		t.Fatal("liquidated by the last trade price (2000) or a mark above the liquidation price")
	}
	e.index(tsym, "3100")
	e.x.quiesce()
	if e.liquidations("alice") != 1 || e.position("alice", tsym) != nil {
		t.Fatalf("not liquidated at mark 3100: %d events, position %+v", e.liquidations("alice"), e.position("alice", tsym))
	}
	e.audit()
}

// TestLiquidationSettlesWithFund: the seed examples per unit, no fees — a
// long (liquidation 3100, bankruptcy 3000) sold at 3060 pays the fund +60,
// at 2960 draws 40; a short (2900 / 3000) bought at 2960 pays +40, at 3060
// draws 60.
func TestLiquidationSettlesWithFund(t *testing.T) {
	cases := []struct {
		name       string
		tiers      [][2]string
		side       wire.Side
		entry      string
		mark       string
		exec       string
		fund       string
		wantFund   string
		wantReason wire.FundReason
		wantDelta  string
	}{
		{"long surplus", longTiers(), wire.Buy, "3750", "3100", "3060", "0", "60", wire.ReasonLiquidationSurplus, "60"},
		{"long deficit", longTiers(), wire.Buy, "3750", "3100", "2960", "100", "60", wire.ReasonLiquidationDeficit, "-40"},
		{"short surplus", shortTiers(), wire.Sell, "2500", "2900", "2960", "0", "40", wire.ReasonLiquidationSurplus, "40"},
		{"short deficit", shortTiers(), wire.Sell, "2500", "2900", "3060", "100", "40", wire.ReasonLiquidationDeficit, "-60"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, testSymbol(t, tsym, c.tiers...))
			e.index(tsym, c.entry)
			margin := "750"
			if c.side == wire.Sell {
				margin = "500"
			}
			e.deposit("alice", margin)
			e.deposit("bob", "100000")
			e.deposit("erin", "100000")
			if c.fund != "0" {
				e.fundDeposit(c.fund)
			}
			e.openPosition("alice", "bob", c.side, c.entry, "1", 5)
			e.leverage("erin", tsym, 5)
			e.mustPlace("erin", tsym, c.side, c.exec, "1") // the liquidity the IOC will take
			e.index(tsym, c.mark)
			e.x.quiesce()
			if got := e.fundBalance(); !got.Equal(dec(c.wantFund)) {
				t.Fatalf("fund %s, want %s", got, c.wantFund)
			}
			e.rec.mu.Lock()
			last := e.rec.fund[len(e.rec.fund)-1]
			e.rec.mu.Unlock()
			if last.Reason != c.wantReason || !last.Delta.Equal(dec(c.wantDelta)) || last.Account != "alice" || last.Symbol != tsym {
				t.Fatalf("fund event %+v, want %s %s", last, c.wantReason, c.wantDelta)
			}
			st := e.state("alice")
			if len(st.Positions) != 0 || !st.Balances["USDT"].IsZero() {
				t.Fatalf("alice after liquidation: %+v", st)
			}
			if p := e.position("erin", tsym); p == nil || !p.EntryPrice.Equal(dec(c.exec)) {
				t.Fatalf("erin's position from the liquidation order: %+v", p)
			}
			e.audit()
		})
	}
}

// TestLiquidationBoundTakesBidInside: the seed example under the default
// liquidation slippage (0.05: no sell below 2850 for bankruptcy 3000). A
// 2-lot long bankrupt at 3000 finds a bid at 2960 (inside the bound) and
// one at 2840 (beyond it): the IOC sells one lot at 2960, the fund drawing
// 40 as in the rulebook, and the other lot goes to ADL at 3000 against bob,
// not to the bid at 2840 (the fund drew 200 when only the band bounded it).
func TestLiquidationBoundTakesBidInside(t *testing.T) {
	e := newEnv(t, testSymbol(t, tsym, longTiers()...))
	e.index(tsym, "3750")
	e.deposit("alice", "1500")
	for _, a := range []string{"bob", "erin", "dave"} {
		e.deposit(a, "100000")
		e.leverage(a, tsym, 5)
	}
	e.fundDeposit("1000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "2", 5)
	if p := e.position("alice", tsym); !p.BankruptcyPrice.Equal(dec("3000")) {
		t.Fatalf("bankruptcy %s, want 3000", p.BankruptcyPrice)
	}
	e.mustPlace("erin", tsym, wire.Buy, "2960", "1")
	far := e.mustPlace("dave", tsym, wire.Buy, "2840", "1")
	a := e.markLeavesFund("3100", "960", "1000 less the 40 of the fill at 2960")
	if p := e.position("erin", tsym); p == nil || !p.EntryPrice.Equal(dec("2960")) || !p.Qty.Equal(dec("1")) {
		t.Fatalf("erin's position from the liquidation order: %+v", p)
	}
	if o := e.state("dave").OpenOrders; e.position("dave", tsym) != nil || len(o) != 1 || o[0].OrderID != far.OrderID {
		t.Fatalf("dave's bid beyond the bound was taken: %+v", o)
	}
	adl := e.rec.events("bob", wire.EventADL)
	if len(adl) != 1 || !adl[0].ADL.Price.Equal(dec("3000")) || !adl[0].ADL.Qty.Equal(dec("1")) {
		t.Fatalf("bob's ADL closes %+v", adl)
	}
	if !a.Conserved() || !slices.Equal(a.Long, a.Short) {
		t.Fatalf("audit %s", a)
	}
}

// TestADLWithEmptyFund: A's 200-lot long is bankrupt at 3000, the fund is
// empty and the book has no bids: the top-ranked short is closed at 3000;
// if it holds fewer, the next one takes the rest. The deleveraged trader is
// notified and trades again at once.
func TestADLWithEmptyFund(t *testing.T) {
	cases := []struct {
		name   string
		shorts [][2]string // account, qty (placed in this order)
		deps   map[string]string
		closed map[string]string // account -> qty closed by ADL
		keeps  map[string]string
	}{
		{"one counterparty", [][2]string{{"B", "230"}}, map[string]string{"B": "200000"},
			map[string]string{"B": "200"}, map[string]string{"B": "30"}},
		{"two counterparties", [][2]string{{"B", "150"}, {"C", "80"}}, map[string]string{"B": "120000", "C": "1000000"},
			map[string]string{"B": "150", "C": "50"}, map[string]string{"C": "30"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, testSymbol(t, tsym, [2]string{"600000", "0.03"}, [2]string{"1000000000", "0.10"}))
			e.index(tsym, "3750")
			e.deposit("A", "150000")
			e.deposit("D", "1000000")
			for _, a := range []string{"A", "D"} {
				e.leverage(a, tsym, 5)
			}
			for _, s := range c.shorts {
				e.deposit(s[0], c.deps[s[0]])
				e.leverage(s[0], tsym, 5)
				e.mustPlace(s[0], tsym, wire.Sell, "3750", s[1])
			}
			e.mustPlace("A", tsym, wire.Buy, "3750", "200", wire.IOC)
			e.mustPlace("D", tsym, wire.Buy, "3750", "30", wire.IOC)
			if p := e.position("A", tsym); !p.BankruptcyPrice.Equal(dec("3000")) || !p.LiquidationPrice.Equal(dec("3100")) {
				t.Fatalf("A: %+v", p)
			}
			before := map[string]decimal.Decimal{}
			for acct := range c.closed {
				before[acct] = e.state(acct).Balances["USDT"]
			}
			e.index(tsym, "3100")
			e.x.quiesce()
			if e.liquidations("A") != 1 || e.position("A", tsym) != nil {
				t.Fatal("A was not liquidated")
			}
			for acct, qty := range c.closed {
				evs := e.rec.events(acct, wire.EventADL)
				if len(evs) != 1 || !evs[0].ADL.Qty.Equal(dec(qty)) || !evs[0].ADL.Price.Equal(dec("3000")) ||
					evs[0].ADL.BankruptAccount != "A" || evs[0].ADL.Counterparty != acct {
					t.Fatalf("%s's adl events: %+v", acct, evs)
				}
				// Booked like a fill: a buy closing the short sold at 3750,
				// realizing 750 a lot, no fee; the balance moved by exactly that.
				ev := evs[0].ADL
				want := dec("750").Mul(dec(qty))
				if ev.Side != wire.Buy || ev.RealizedPnL == nil || !ev.RealizedPnL.Equal(want) || ev.Fee == nil || !ev.Fee.IsZero() {
					t.Fatalf("%s's adl close: side %q, realized %v, fee %v; want buy, %s, 0", acct, ev.Side, ev.RealizedPnL, ev.Fee, want)
				}
				if got := e.state(acct).Balances["USDT"].Sub(before[acct]); !got.Equal(want) {
					t.Fatalf("%s's balance moved by %s, the close realized %s", acct, got, want)
				}
				p := e.position(acct, tsym)
				if keep, ok := c.keeps[acct]; ok != (p != nil) || (ok && !p.Qty.Equal(dec(keep))) {
					t.Fatalf("%s keeps %+v, want %s", acct, p, keep)
				}
				// Free to trade at once.
				if r := e.place(acct, tsym, wire.Buy, "3000", "1"); !r.OK {
					t.Fatalf("%s after ADL: %v", acct, r.Error)
				}
			}
			evs := e.rec.events("A", wire.EventADL)
			if len(evs) != len(c.closed) {
				t.Fatalf("bankrupt account's adl events: %+v", evs)
			}
			for _, ev := range evs { // its leg's closes: sells, of a position the takeover had
				if ev.ADL.Side != wire.Sell || ev.ADL.RealizedPnL == nil || !ev.ADL.RealizedPnL.IsZero() {
					t.Fatalf("bankrupt account's adl event %+v", ev.ADL)
				}
			}
			if !e.fundBalance().IsZero() {
				t.Fatalf("fund %s", e.fundBalance())
			}
			q := call(t, func(d func(wire.ADLQueueReply)) { e.x.ADLQueue(tsym, wire.ADLQueue{Side: wire.Short}, d) })
			if len(c.keeps) == 1 {
				for acct := range c.keeps {
					if len(q.Queue) != 1 || q.Queue[0].Account != acct {
						t.Fatalf("short queue %+v, want only %s", q.Queue, acct)
					}
				}
			}
			e.audit()
		})
	}
}

// newEnvSink is an exchange of sym publishing to sink, which records to
// rec (and may answer whether anybody listens: Interest).
func newEnvSink(t *testing.T, rec *recorder, sink Sink, sym *market.Symbol) *env {
	e := &env{t: t, rec: rec, clk: &clock{}}
	e.clk.ms.Store(1_700_000_000_000)
	x, err := Start(Options{Symbols: []*market.Symbol{sym}, Sink: sink, Now: e.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	e.x = x
	t.Cleanup(x.Stop)
	return e
}

// deafRecorder records like recorder but says nobody follows the accounts,
// the trades or the book (as the gateway's Publisher does on an embedded
// server nobody subscribed to).
type deafRecorder struct{ *recorder }

func (deafRecorder) WantsTrades(string) bool        { return false }
func (deafRecorder) WantsBook(string) bool          { return false }
func (deafRecorder) WantsAccountEvents(string) bool { return false }

// TestLiquidationNoticeWithoutAccountListeners: a liquidation's event is
// built even when nobody follows the account, since it also feeds the
// symbol's public liquidations stream (and perpx_liquidations_total); the
// account's fills, which feed nothing else, are not.
func TestLiquidationNoticeWithoutAccountListeners(t *testing.T) {
	deaf := deafRecorder{newRecorder()}
	e := newEnvSink(t, deaf.recorder, deaf, testSymbol(t, tsym, longTiers()...))
	x := e.x
	e.index(tsym, "3750")
	e.deposit("alice", "750")
	e.deposit("bob", "100000")
	e.deposit("erin", "100000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.leverage("erin", tsym, 5)
	e.mustPlace("erin", tsym, wire.Buy, "3060", "1")
	e.index(tsym, "3100")
	e.x.quiesce()
	if ls := e.rec.events("alice", wire.EventLiquidation); len(ls) != 1 || !ls[0].Liquidation.BankruptcyPrice.Equal(dec("3000")) {
		t.Fatalf("liquidation events %+v, want one", ls)
	}
	if fs := e.rec.events("bob", wire.EventFill); len(fs) != 0 {
		t.Fatalf("fill events built for nobody: %+v", fs)
	}
	// Two trades (the position's, the liquidation's): counted, not built.
	e.rec.mu.Lock()
	built := len(e.rec.trades[tsym])
	e.rec.mu.Unlock()
	if n := x.Trades()[tsym](); n != 2 || built != 0 {
		t.Fatalf("trades counted %d, built %d; want 2 and 0", n, built)
	}
	e.audit()
}

// switchRecorder records like recorder; whether anybody follows the
// accounts is up to the test.
type switchRecorder struct {
	*recorder
	follow atomic.Bool
	mdOff  atomic.Bool // nobody follows the trades and the book
}

func (s *switchRecorder) WantsAccountEvents(string) bool { return s.follow.Load() }
func (s *switchRecorder) WantsTrades(string) bool        { return !s.mdOff.Load() }
func (s *switchRecorder) WantsBook(string) bool          { return !s.mdOff.Load() }

// TestMarketDataFollowsANewSubscriber: a symbol publishes its trades and
// book updates only while somebody follows them, asking once per take of
// its mailbox: a trade after a subscriber came is published, although the
// one before it was not; the book's sequence counts the updates never
// built, so a client sees the gap.
func TestMarketDataFollowsANewSubscriber(t *testing.T) {
	sw := &switchRecorder{recorder: newRecorder()}
	sw.mdOff.Store(true)
	e := newEnvSink(t, sw.recorder, sw, testSymbol(t, tsym))
	e.index(tsym, "3750")
	e.deposit("alice", "100000")
	e.deposit("bob", "100000")
	trade := func(price string) {
		t.Helper()
		e.mustPlace("bob", tsym, wire.Sell, price, "1")
		e.mustPlace("alice", tsym, wire.Buy, price, "1", wire.IOC)
		e.x.quiesce()
	}
	trade("3750")
	sw.mu.Lock()
	n, b := len(sw.trades[tsym]), len(sw.books[tsym])
	sw.mu.Unlock()
	if n != 0 || b != 0 {
		t.Fatalf("%d trades and %d book updates published for nobody", n, b)
	}
	sw.mdOff.Store(false)
	trade("3751")
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if ts := sw.trades[tsym]; len(ts) != 1 || !ts[0].Price.Equal(dec("3751")) {
		t.Fatalf("trades %+v, want the second", ts)
	}
	if bs := sw.books[tsym]; len(bs) != 2 || bs[0].Seq != 3 {
		t.Fatalf("book updates %+v, want the second trade's two (seq 3 and 4)", bs)
	}
}

// TestAccountEventsFollowANewListener: an account builds its events only
// while somebody follows it, and caches the answer for a take of its
// mailbox: an order placed after a listener came builds its event,
// although the one before it did not.
func TestAccountEventsFollowANewListener(t *testing.T) {
	sw := &switchRecorder{recorder: newRecorder()}
	e := newEnvSink(t, sw.recorder, sw, testSymbol(t, tsym))
	e.index(tsym, "3750")
	e.deposit("alice", "100000")
	e.mustPlace("alice", tsym, wire.Buy, "3000", "1")
	e.x.quiesce()
	if n := len(e.rec.events("alice", wire.EventOrder)); n != 0 {
		t.Fatalf("%d order events built for nobody", n)
	}
	sw.follow.Store(true)
	e.mustPlace("alice", tsym, wire.Buy, "3001", "1")
	e.x.quiesce()
	if evs := e.rec.events("alice", wire.EventOrder); len(evs) != 1 || !evs[0].Order.Price.Equal(dec("3001")) {
		t.Fatalf("order events %+v, want the second order's", evs)
	}
}

// TestCloseBeyondBankruptcy: with one order into a thin book a trader
// could close a long below its bankruptcy price and leave the loss its
// margin cannot pay to the insurance fund (empty here: the audit counted it
// uncovered; a full one paid the counterparty's windfall, an account pair's
// way to drain it). Such a limit order is refused, placed or amended, with
// INSUFFICIENT_MARGIN; at the bankruptcy price it is accepted, and a market
// close stops there (closeBound): nothing reaches the fund.
func TestCloseBeyondBankruptcy(t *testing.T) {
	e := newEnv(t, testSymbol(t, tsym, longTiers()...))
	e.index(tsym, "3750")
	e.deposit("alice", "750")
	for _, a := range []string{"bob", "carol"} {
		e.deposit(a, "100000")
	}
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5) // bankruptcy price 3000
	e.leverage("carol", tsym, 5)
	e.mustPlace("carol", tsym, wire.Buy, "2000", "1")
	for _, tif := range []wire.TIF{wire.IOC, wire.GTC} {
		r := e.place("alice", tsym, wire.Sell, "2999", "1", tif)
		if r.OK || r.Error.Code != wire.CodeInsufficientMargin || !strings.Contains(r.Error.Message, "bankruptcy price") {
			t.Fatalf("%s sell below the bankruptcy price: %+v", tif, r.Reply)
		}
	}
	o := e.mustPlace("alice", tsym, wire.Sell, "3400", "1") // rests above carol's bid
	a := call(t, func(d func(wire.OrderReply)) {
		e.x.AmendOrder("alice", wire.Amend{Symbol: tsym, OrderID: o.OrderID, Price: dec("2000")}, d)
	})
	if a.OK || a.Error.Code != wire.CodeInsufficientMargin {
		t.Fatalf("amend below the bankruptcy price: %+v", a.Reply)
	}
	if c := call(t, func(d func(wire.OrderReply)) {
		e.x.CancelOrder("alice", wire.Cancel{Symbol: tsym, OrderID: o.OrderID}, d)
	}); !c.OK {
		t.Fatalf("cancel: %+v", c.Reply)
	}
	if o := e.mustPlace("alice", tsym, wire.Sell, "3000", "1", wire.IOC); o.Status != wire.StatusExpired {
		t.Fatalf("IOC at the bankruptcy price over a bid at 2000: %+v", o)
	}
	m := e.send("alice", wire.PlaceOrder{Symbol: tsym, Side: wire.Sell, Type: wire.Market, TIF: wire.IOC, Qty: dec("1")})
	if !m.OK || m.Order.FilledQty.Sign() != 0 {
		t.Fatalf("market close over a bid at 2000: %+v %+v", m.Reply, m.Order)
	}
	e.x.quiesce()
	if p := e.position("alice", tsym); p == nil || !p.Qty.Equal(dec("1")) {
		t.Fatalf("position %+v", p)
	}
	if r := e.audit(); r.Uncovered != 0 || !r.Conserved() || !e.fundBalance().IsZero() {
		t.Fatalf("audit %v, fund %s", r, e.fundBalance())
	}
}
