package actors

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perpx/perpx/gateway"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The facade is what the NATS gateway drives.
var _ gateway.Exchange = (*Exchange)(nil)

// soak drives a seeded random mix of requests from many accounts at two
// symbols while the index walks (with occasional shocks) and funding falls
// due, checking every reply and, at quiet points, every invariant.
type soak struct {
	t      *testing.T
	e      *env
	rng    *rand.Rand
	syms   []*market.Symbol
	index  []decimal.Decimal
	accts  []string
	mu     sync.Mutex
	open   map[string][]string // account -> order ids seen resting
	counts map[string]int      // reply code -> count
	// crossOnly keeps every account in cross margin: with an empty fund an
	// isolated close's deficit has nobody to pay it (DESIGN.md, an ordinary
	// close beyond the margin: the race a resting close's cancel can lose).
	crossOnly bool
	// failing: FailOrderForTest is on, so accounts fail as the soak runs;
	// their requests are answered INTERNAL and the audit lists them.
	failing bool
}

// TestSoak runs the demo symbols, then again with ETH-PERP in
// socialized-loss mode (the deficits the fund cannot take are charged to
// the winners instead of deleveraging them).
func TestSoak(t *testing.T) {
	t.Run("adl", func(t *testing.T) { soakRun(t, nil, market.DemoSymbols(), 1, "1000000", 1) })
	t.Run("socialized", func(t *testing.T) {
		soakRun(t, nil, socializedDemo(t), 2, "0", 3) // a seed whose shocks leave deficits to socialize
	})
	// A wallet per coin: the demo symbols in USDT beside an inverse XBTUSD
	// in BTC; every account trades both, each asset balances on its own.
	t.Run("wallets", func(t *testing.T) {
		s := soakRun(t, nil, append(market.DemoSymbols(), xbtusd(t)), 2, "1000000", 5)
		n := 0
		for _, a := range s.accts {
			for _, ev := range s.e.rec.events(a, wire.EventLiquidation) {
				if ev.Liquidation.Symbol == "XBTUSD" {
					n++
				}
			}
		}
		if n == 0 && !testing.Short() { // -short's 60 rounds are too few to be sure of one
			t.Fatal("no XBTUSD liquidation: the BTC wallets were never tested")
		}
		t.Logf("%d XBTUSD liquidations", n)
	})
}

// socializedDemo is the demo symbols with ETH-PERP in socialized-loss mode.
func socializedDemo(t *testing.T) []*market.Symbol {
	cfgs := market.DemoConfigs()
	syms := make([]*market.Symbol, len(cfgs))
	// Funding on, as in the adl soak: a leg that waits for ADL across a
	// funding time pays it into its liquidation (liq.Funding), not from
	// the empty fund.
	for i, c := range cfgs {
		if c.Symbol == "ETH-PERP" {
			c.ADLMode = "socialized"
		}
		s, err := c.Compile()
		if err != nil {
			t.Fatal(err)
		}
		syms[i] = s
	}
	return syms
}

// xbtusd is XBTUSD, inverse and settled in BTC (100-contract lots,
// maintenance 0.5 % to 10 BTC and 1 % above).
func xbtusd(t *testing.T) *market.Symbol {
	x, err := market.SymbolConfig{Symbol: "XBTUSD", Quote: "USD", Contract: "inverse", Settle: "BTC", Tick: dec("0.5"), Lot: dec("100"),
		MaxLeverage: dec("100"), MMTiers: []market.TierConfig{{MaxNotional: dec("10"), MMR: dec("0.005")}, {MaxNotional: dec("1000"), MMR: dec("0.01")}},
		MakerFee: dec("-0.00025"), TakerFee: dec("0.00075"), LiquidationFee: dec("0.005"), PriceBand: dec("0.5")}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// soakRun soaks syms with an insurance fund of fund from random seed base
// (+ PERPX_SOAK_SEED); the socialized run is shorter (scale 2 halves the
// rounds) to keep CI quick. With j the exchange is durable on it.
func soakRun(t *testing.T, j *memJournal, syms []*market.Symbol, scale int, fund string, base uint64) *soak {
	return soakRunHook(t, j, syms, scale, fund, base, nil)
}

// soakRunHook is soakRun calling started with the exchange once it runs.
func soakRunHook(t *testing.T, j *memJournal, syms []*market.Symbol, scale int, fund string, base uint64, started func(*Exchange)) *soak {
	accounts, rounds, batch := 300, 800/scale, 150
	if testing.Short() {
		accounts, rounds, batch = 60, 60, 60
	}
	// PERPX_SOAK_SEED replays another seed (a failure's log names it).
	seed, _ := strconv.ParseUint(os.Getenv("PERPX_SOAK_SEED"), 10, 64)
	t.Logf("seed %d", seed)
	s := &soak{t: t, e: newEnvWith(t, j, syms...), rng: rand.New(rand.NewPCG(base+seed, 2)), syms: syms,
		open: map[string][]string{}, counts: map[string]int{}, crossOnly: fund == "0", failing: failTest.Load() != nil}
	for _, sym := range syms {
		start, ok := map[string]string{"BTC-PERP": "30000", "ETH-PERP": "2000"}[sym.Name]
		if !ok {
			start = "10000"
		}
		s.index = append(s.index, dec(start))
	}
	coins := map[string]bool{}
	for _, sym := range syms[1:] {
		if sym.Settle != syms[0].Settle {
			coins[sym.Settle] = true
		}
	}
	if started != nil {
		started(s.e.x)
	}
	for i, sym := range syms {
		s.e.index(sym.Name, s.index[i].String())
	}
	// The ADL run's fund is deep enough for every deficit: risk's
	// bankruptcy prices of a liquidated cross account with positions in
	// both symbols cost the fund about one equity (see liquidation.go,
	// baseDeficit), which a thin fund cannot pay (the audit would count it
	// uncovered). The socialized run's is thin, so winners are charged.
	s.e.fundDeposit(fund)
	for coin := range coins {
		s.e.fundDepositIn(coin, "100")
	}
	liqs, charges := 0, 0
	defer func() {
		for _, a := range s.accts {
			liqs += len(s.e.rec.events(a, wire.EventLiquidation))
			for _, ev := range s.e.rec.events(a, wire.EventADL) {
				if ev.ADL.Qty.IsZero() {
					charges++
				}
			}
		}
		t.Logf("liquidations: %d, socialized charges: %d", liqs, charges)
	}()
	for i := range accounts {
		a := "acct" + strconv.Itoa(i)
		s.accts = append(s.accts, a)
		s.e.deposit(a, strconv.Itoa(200+s.rng.IntN(5000)))
		for coin := range coins {
			s.e.depositIn(a, coin, fmt.Sprintf("0.%02d", 2+s.rng.IntN(50)))
		}
	}
	start := time.Now()
	for r := range rounds {
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			s.act(wg.Done)
		}
		wg.Wait()
		s.moveIndex()
		if r%25 == 24 || r == rounds-1 {
			a := s.audit()
			if r == rounds-1 {
				a = s.finish(a)
			}
			t.Logf("round %d: liquidating %d, fund %s, fees %s, open interest %v/%v, resting %d, negative cash with positions %d",
				r+1, a.Liquidating, a.Fund, a.Fees, a.Long, a.Short, a.Resting, a.NegativeOpen)
		}
	}
	t.Logf("%d rounds × %d requests in %v; replies %v", rounds, batch, time.Since(start), s.counts)
	if s.counts["ok"] == 0 || s.counts[string(wire.CodeInternal)] != 0 && !s.failing {
		t.Fatalf("replies: %v", s.counts)
	}
	return s
}

// audit checks every invariant; a liquidation may still be waiting for a
// counterparty (its value is in the conservation sum). Such a liquidation
// waits on a slow retry timer, which quiesce does not wait for: when it
// fires while the audit gathers the actors' shares, the shares are taken
// at different points and need not add up (the account's share may say
// settled while the fund's still holds its reservation), so a failed
// audit is taken again (a real break does not go away).
func (s *soak) audit() AuditReport {
	r, bad := s.check()
	if r.Liquidating > 0 || bad {
		s.describe()
	}
	if bad {
		s.describeFailed(r.Failed)
		s.t.Fatalf("audit: %s", r.String())
	}
	return r
}

// check takes the audit at a quiet point, again while it fails (see
// audit); bad: it still does.
func (s *soak) check() (r AuditReport, bad bool) {
	bad = true
	for try := 0; bad && try < 5; try++ {
		s.e.x.quiesce()
		r = call(s.t, func(d func(AuditReport)) { s.e.x.audit(d) })
		bad = !r.OK || r.OpenOrders != r.Resting || len(r.Failed) != 0 && !s.failing
	}
	return r, bad
}

// describeFailed logs the open orders of the failed accounts (the books'
// and theirs must agree).
func (s *soak) describeFailed(names []string) {
	for _, name := range names {
		s.t.Log(name, call(s.t, func(d func(string)) {
			s.e.x.root.Send(s.e.x.accounts.get(s.e.x, name).pid, &testHook{fn: func(a *accountActor) {
				out := ""
				for _, o := range a.orders.Values() {
					out += fmt.Sprintf(" [id %d status %s cond %v on its way %v]", o.id, o.status, o.cond != nil, o.onWay)
				}
				d(out)
			}})
		}))
	}
}

// describe logs every liquidation in flight.
func (s *soak) describe() {
	for _, a := range s.accts {
		if d := call(s.t, func(d func(string)) {
			s.e.x.root.Send(s.e.x.accounts.get(s.e.x, a).pid, &testHook{fn: func(a *accountActor) { d(a.describeLiquidation()) }})
		}); d != "" {
			s.t.Log(a, d)
		}
	}
}

// finishWait bounds finish's wait: ten times the longest retry backoff
// (the default 1 ms ADLRetry << liq.MaxBackoff ≈ 1 s).
const finishWait = 10 * time.Second

// finish lets the liquidations still in flight after the last round (a
// is its audit) run to their end. A leg whose ADL rounds closed nothing
// while the soak traded (its counterparties were being liquidated
// themselves, or the ranking had not heard of their takeover yet) waits
// on a retry timer that doubles up to 1 s, which quiesce does not wait
// for; with the trading over its next round finds a counterparty. One
// still in flight after ten such rounds is stuck: the test fails.
func (s *soak) finish(a AuditReport) AuditReport {
	start := time.Now()
	for a.Liquidating != 0 && time.Since(start) < finishWait {
		time.Sleep(20 * time.Millisecond)
		var bad bool
		if a, bad = s.check(); bad {
			s.describe()
			s.t.Fatalf("audit: %s", a.String())
		}
	}
	if a.Liquidating != 0 {
		s.describe()
		s.t.Fatalf("%d liquidations still in flight %v after the last round", a.Liquidating, finishWait)
	}
	if waited := time.Since(start); waited > 20*time.Millisecond {
		s.t.Logf("the last liquidations settled %v after the last round", waited.Round(time.Millisecond))
	}
	return a
}

func (s *soak) record(acct string, r wire.Reply, o *wire.Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.OK {
		s.counts["ok"]++
		if o != nil && (o.Status == wire.StatusNew || o.Status == wire.StatusPartiallyFilled || o.Status == wire.StatusUntriggered) {
			s.open[acct] = append(s.open[acct], o.Symbol+"/"+o.OrderID)
		}
		return
	}
	if r.Error == nil || !r.Error.Code.Known() {
		s.t.Errorf("malformed failure reply %+v", r)
		return
	}
	s.counts[string(r.Error.Code)]++
}

func (s *soak) act(done func()) {
	x, acct := s.e.x, s.accts[s.rng.IntN(len(s.accts))]
	si := s.rng.IntN(len(s.syms))
	sym := s.syms[si]
	orderDone := func(r wire.OrderReply) { s.record(acct, r.Reply, r.Order); done() }
	switch p := s.rng.IntN(100); {
	case p < 60:
		req := wire.PlaceOrder{Symbol: sym.Name, Side: s.side(), Type: wire.Limit, Qty: s.qty(sym), TIF: wire.GTC,
			Price: s.price(si, 0.02)}
		switch q := s.rng.IntN(20); {
		case q < 4:
			req.TIF = wire.IOC
		case q < 5:
			req.TIF = wire.FOK
		case q < 7:
			req.PostOnly = true
		case q < 9:
			req.ReduceOnly = true
		case q < 11:
			req.ClientOrderID = "c" + strconv.Itoa(s.rng.IntN(5))
		case q < 14:
			req.STP = []wire.STP{wire.STPNone, wire.STPCancelMaker, wire.STPCancelBoth}[s.rng.IntN(3)]
		case q < 17:
			s.conditional(&req, si)
		}
		x.PlaceOrder(acct, req, orderDone)
	case p < 70:
		x.PlaceOrder(acct, wire.PlaceOrder{Symbol: sym.Name, Side: s.side(), Type: wire.Market, Qty: s.qty(sym), TIF: wire.IOC}, orderDone)
	case p < 73: // cancel-all, of one symbol or of every one, racing fills and liquidations
		req := wire.CancelAll{}
		if s.rng.IntN(2) == 0 {
			req.Symbol = sym.Name
		}
		x.CancelAll(acct, req, func(r wire.CancelAllReply) {
			if r.OK && r.Count != len(r.Orders) {
				s.t.Errorf("cancel-all of %s: count %d, %d listed", acct, r.Count, len(r.Orders))
			}
			for _, o := range r.Orders {
				if o.Status != wire.StatusCanceled || o.Account != acct || req.Symbol != "" && o.Symbol != req.Symbol {
					s.t.Errorf("cancel-all of %s %q listed %+v", acct, req.Symbol, o)
				}
			}
			s.record(acct, r.Reply, nil)
			done()
		})
	case p < 85:
		s.mu.Lock()
		ids := s.open[acct]
		var key string
		if len(ids) > 0 {
			i := s.rng.IntN(len(ids))
			key = ids[i]
			s.open[acct] = append(ids[:i], ids[i+1:]...)
		}
		s.mu.Unlock()
		c := wire.Cancel{Symbol: sym.Name, OrderID: "1"} // unknown unless one was seen resting
		if symName, id, ok := strings.Cut(key, "/"); ok {
			c = wire.Cancel{Symbol: symName, OrderID: id}
		}
		x.CancelOrder(acct, c, orderDone)
	case p < 90:
		x.SetLeverage(acct, wire.Leverage{Symbol: sym.Name, Leverage: decimal.NewFromInt(int64(5 + s.rng.IntN(60)))},
			func(r wire.LeverageReply) { s.record(acct, r.Reply, nil); done() })
	case p < 92:
		x.AccountState(acct, wire.State{}, func(r wire.AccountReply) { s.record(acct, r.Reply, nil); done() })
	case p < 95: // an amend of an order seen resting (maybe filled or gone since), racing its fills
		s.mu.Lock()
		var key string
		if ids := s.open[acct]; len(ids) > 0 {
			key = ids[s.rng.IntN(len(ids))]
		}
		s.mu.Unlock()
		symName, id, ok := strings.Cut(key, "/")
		if !ok {
			symName, id = sym.Name, "1"
		}
		req := wire.Amend{Symbol: symName, OrderID: id}
		si := slices.IndexFunc(s.syms, func(m *market.Symbol) bool { return m.Name == symName })
		switch s.rng.IntN(3) {
		case 0:
			req.Price = s.price(si, 0.02)
		case 1:
			req.Qty = s.qty(s.syms[si])
		default:
			req.Price, req.Qty = s.price(si, 0.02), s.qty(s.syms[si])
		}
		x.AmendOrder(acct, req, orderDone)
	case p < 97:
		x.Deposit(wire.Deposit{Account: acct, Asset: "USDT", Amount: decimal.NewFromInt(int64(s.rng.IntN(2000)))},
			func(r wire.BalanceReply) { s.record(acct, r.Reply, nil); done() })
	case p < 98: // refused beyond what is available
		x.Withdraw(acct, wire.Withdraw{Asset: "USDT", Amount: decimal.NewFromInt(int64(1 + s.rng.IntN(1000)))},
			func(r wire.BalanceReply) { s.record(acct, r.Reply, nil); done() })
	case p < 99: // refused while a position or an order is there
		mode := wire.MarginCross
		if s.rng.IntN(2) == 0 && !s.crossOnly {
			mode = wire.MarginIsolated
		}
		x.SetMarginMode(acct, wire.MarginMode{Symbol: sym.Name, Mode: mode},
			func(r wire.MarginModeReply) { s.record(acct, r.Reply, nil); done() })
	default: // refused without an isolated position
		x.MovePositionMargin(acct, wire.PositionMargin{Symbol: sym.Name, Delta: decimal.NewFromInt(int64(s.rng.IntN(400) - 200))},
			func(r wire.PositionMarginReply) { s.record(acct, r.Reply, nil); done() })
	}
}

func (s *soak) side() wire.Side {
	if s.rng.IntN(2) == 0 {
		return wire.Buy
	}
	return wire.Sell
}

// qty is 1 to 500 lots.
func (s *soak) qty(sym *market.Symbol) decimal.Decimal {
	return sym.LotSize.Mul(decimal.NewFromInt(int64(1 + s.rng.IntN(500))))
}

// price is within ±spread of the index, on the tick.
func (s *soak) price(si int, spread float64) decimal.Decimal {
	f := 1 + (s.rng.Float64()*2-1)*spread
	tick := s.syms[si].TickSize
	return s.index[si].Mul(decimal.NewFromFloat(f)).Div(tick).Round(0).Mul(tick)
}

// moveIndex walks one symbol's index by up to ±1 % (a ±8 % shock one time
// in twenty) and advances the clock up to 40 minutes, so funding falls due
// every dozen rounds or so.
func (s *soak) moveIndex() {
	si := s.rng.IntN(len(s.syms))
	step := 0.01
	if s.rng.IntN(20) == 0 {
		step = 0.08
	}
	s.index[si] = s.price(si, step)
	s.e.clk.advance(time.Duration(s.rng.IntN(40)) * time.Minute)
	s.e.index(s.syms[si].Name, s.index[si].String())
}

// conditional makes req a random conditional order near the symbol's
// price: some fire on the soak's index moves and trades, some are refused
// as already triggered, some never fire.
func (s *soak) conditional(req *wire.PlaceOrder, si int) {
	types := []wire.OrderType{wire.StopMarket, wire.StopLimit, wire.TakeProfitMarket, wire.TakeProfitLimit, wire.TrailingStopMarket}
	req.Type = types[s.rng.IntN(len(types))]
	req.TriggerBy = []wire.TriggerBy{wire.TriggerMark, wire.TriggerLast, wire.TriggerIndex}[s.rng.IntN(3)]
	req.PostOnly = false
	if !req.Type.Limited() {
		req.Price, req.TIF = decimal.Decimal{}, wire.IOC
	}
	switch {
	case req.Type == wire.TrailingStopMarket:
		req.CallbackRate = decimal.New(int64(1+s.rng.IntN(30)), -1)
		if s.rng.IntN(2) == 0 {
			req.ActivationPrice = s.price(si, 0.02)
		}
	default:
		req.TriggerPrice = s.price(si, 0.02)
	}
	if s.rng.IntN(4) == 0 && (req.Type == wire.StopMarket || req.Type == wire.TakeProfitMarket) {
		req.ClosePosition, req.ReduceOnly, req.Qty = true, true, decimal.Decimal{}
	}
}
