package actors

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

const csym = "CASCADE-PERP"

// cascadeSymbol: tick 1, lot 1, real fees, no funding, band 50 %, 1 % MM
// up to 100 000 USDT (max leverage 50).
func cascadeSymbol(tb testing.TB) *market.Symbol {
	tb.Helper()
	off := false
	// Slippage 0.25 lets the liquidations reach the makers' bids (800-880
	// against bankruptcy prices up to ≈ 1030), so the fund is drained first.
	slip := dec("0.25")
	s, err := market.SymbolConfig{Symbol: csym, Tick: dec("1"), Lot: dec("1"), MaxLeverage: dec("50"),
		MMTiers:  []market.TierConfig{{MaxNotional: dec("100000"), MMR: dec("0.01")}, {MaxNotional: dec("1000000000"), MMR: dec("0.05")}},
		MakerFee: dec("0.0002"), TakerFee: dec("0.0005"), LiquidationFee: dec("0.005"), PriceBand: dec("0.5"), Funding: &off,
		LiquidationSlippage: &slip,
	}.Compile()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// pipeline runs n asynchronous chains (one per account) with at most
// inflight of them outstanding, and fails the test on a refused request.
func pipeline(tb testing.TB, n, inflight int, chain func(i int, next func(wire.Reply))) {
	tb.Helper()
	var wg sync.WaitGroup
	var bad atomic.Value
	sem := make(chan struct{}, inflight)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		chain(i, func(r wire.Reply) {
			if !r.OK {
				bad.Store(fmt.Sprintf("chain %d: %v", i, r.Error))
			}
			<-sem
			wg.Done()
		})
	}
	wg.Wait()
	if v := bad.Load(); v != nil {
		tb.Fatal(v)
	}
}

// cascade is a market of n accounts: n/2 longs at 10x–50x against n/2
// shorts at 1x–4x, entered around 1000 (a crowd of a quarter of them
// identical), plus a few market makers bidding 880 down to 800 for a fifth
// of the open interest, and a small insurance fund (10 000 USDT). A shock of
// the index to 850 liquidates every long: the first ones sell into the
// makers' bids below their bankruptcy prices and drain the fund, the rest
// go to ADL against the shorts.
type cascade struct {
	e     *env
	longs int
	crowd int // shorts S0 … S<crowd-1>: one entry price (1040), 4×
	oi    int64
}

// cascadeFund is the insurance fund before the shock.
const cascadeFund = "10000"

func newCascade(tb testing.TB, n int) *cascade {
	tb.Helper()
	e := newEnv(tb, cascadeSymbol(tb))
	// The shorts rest at the mark or above it, the longs buy at it or
	// below it (the index moves to 1049 between them): an order priced
	// against the mark reserves its open loss, which their margins leave
	// no room for.
	e.index(csym, "1000")
	e.fundDeposit(cascadeFund)
	c := &cascade{e: e, longs: n / 2, crowd: n / 8}
	qty := func(i int) int64 { return 1 + int64(i%5) }
	for i := range c.longs {
		c.oi += qty(i)
	}
	open := func(prefix string, side wire.Side, tif wire.TIF, price func(int) int64, lev func(int) int64, margin func(int) decimal.Decimal) {
		pipeline(tb, c.longs, 512, func(i int, next func(wire.Reply)) {
			acct := fmt.Sprintf("%s%d", prefix, i)
			e.x.Deposit(wire.Deposit{Account: acct, Asset: "USDT", Amount: margin(i)}, func(r wire.BalanceReply) {
				if !r.OK {
					next(r.Reply)
					return
				}
				e.x.SetLeverage(acct, wire.Leverage{Symbol: csym, Leverage: decimal.NewFromInt(lev(i))}, func(r wire.LeverageReply) {
					if !r.OK {
						next(r.Reply)
						return
					}
					e.x.PlaceOrder(acct, wire.PlaceOrder{Symbol: csym, Side: side, Type: wire.Limit, Price: decimal.NewFromInt(price(i)),
						Qty: decimal.NewFromInt(qty(i)), TIF: tif}, func(r wire.OrderReply) {
						if r.OK && tif == wire.IOC && r.Order.Status != wire.StatusFilled {
							r.Reply = fail(wire.CodeInternal, "long not filled: %s", r.Order.Status)
						}
						next(r.Reply)
					})
				})
			})
		})
	}
	// Shorts rest first, at 1000 to 1049 and 1x to 4x (they survive any
	// fall), then the longs take them at up to 1049: entries and leverage
	// spread as in a real market, groups of 50 alike, and a crowd of
	// identical ones (one entry price and margin ratio) near the top of the
	// ADL queue, which the ranking must serve in O(log n) per close.
	sPrice := func(i int) int64 {
		if i < c.crowd {
			return 1040
		}
		return 1000 + int64(i%50)
	}
	sLev := func(i int) int64 {
		if i < c.crowd {
			return 4
		}
		return 1 + int64(i%4)
	}
	open("S", wire.Sell, wire.GTC, sPrice, sLev, func(i int) decimal.Decimal {
		return decimal.NewFromInt(qty(i) * 1060).Div(decimal.NewFromInt(sLev(i))).Round(2).Add(decimal.NewFromInt(qty(i)))
	})
	e.index(csym, "1049")
	open("L", wire.Buy, wire.IOC, func(int) int64 { return 1049 }, func(i int) int64 { return 10 + int64(i%41) },
		func(i int) decimal.Decimal {
			return decimal.NewFromInt(qty(i) * 1049).Div(decimal.NewFromInt(10 + int64(i%41))).Round(2).Add(decimal.NewFromInt(qty(i)))
		})
	makers := max(20, n/200)
	pipeline(tb, makers, makers, func(i int, next func(wire.Reply)) {
		acct := fmt.Sprintf("M%d", i)
		e.x.Deposit(wire.Deposit{Account: acct, Asset: "USDT", Amount: dec("10000000")}, func(r wire.BalanceReply) {
			per := max(1, c.oi/5/int64(makers))
			e.x.PlaceOrder(acct, wire.PlaceOrder{Symbol: csym, Side: wire.Buy, Type: wire.Limit,
				Price: decimal.NewFromInt(880 - int64(i%20)*4), Qty: decimal.NewFromInt(per), TIF: wire.GTC}, func(r wire.OrderReply) { next(r.Reply) })
		})
	})
	e.x.quiesce()
	return c
}

func TestCascade(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	c := newCascade(t, n)
	e := c.e
	start := time.Now()
	e.index(csym, "850")
	e.x.quiesce()
	t.Logf("%d accounts: shock settled in %v", n, time.Since(start))

	a := e.audit()
	liq, adlEvents, crowdClosed := 0, 0, 0
	e.rec.mu.Lock()
	for acct, evs := range e.rec.accounts {
		for _, ev := range evs {
			switch {
			case ev.Type == wire.EventLiquidation:
				liq++
			case ev.Type == wire.EventADL && ev.ADL.Counterparty == acct:
				adlEvents++
				var i int
				if _, err := fmt.Sscanf(acct, "S%d", &i); err == nil && i < c.crowd {
					crowdClosed++
				}
			}
		}
	}
	var deficits int
	for _, f := range e.rec.fund {
		if f.Reason == wire.ReasonLiquidationDeficit {
			deficits++
		}
	}
	e.rec.mu.Unlock()
	if liq != c.longs {
		t.Fatalf("%d liquidations, want every long (%d)", liq, c.longs)
	}
	// The fund reserves what each order needs in the book (not the band's
	// floor), so it covers many of the concurrent liquidations before it
	// runs dry; then ADL takes over, the identical crowd included.
	if deficits < max(3, c.longs/500) || adlEvents == 0 || crowdClosed == 0 || a.Fund < 0 || a.Fund >= a.FundDeposits {
		t.Fatalf("fund deficits %d, ADL closes %d (%d in the crowd), fund %s", deficits, adlEvents, crowdClosed, a.Fund)
	}
	if a.Long[0] != a.Short[0] || a.Long[0] == 0 {
		t.Fatalf("open interest %v/%v", a.Long, a.Short)
	}
	t.Logf("liquidations %d, fund deficits %d, ADL closes %d (%d in the crowd), fund left %s, open interest %d (was %d)",
		liq, deficits, adlEvents, crowdClosed, a.Fund, a.Long[0], c.oi)
}

// TestFundCoversConcurrentLiquidations: one mark tick liquidates two
// accounts (the seed's 1-lot examples, bankruptcy 3000) while the book
// holds two lots at 2960 (long) or 3060 (short). Each reservation is what
// its IOC needs in that book, 40 or 60, not the way to the band's edge, so
// a fund of 100 or 150 covers both: both close in the book, the fund pays
// both deficits, nobody is deleveraged, and the rest stays in the fund.
func TestFundCoversConcurrentLiquidations(t *testing.T) {
	cases := []struct {
		name                      string
		tiers                     [][2]string
		side                      wire.Side
		entry, margin, mark, exec string
		fund, wantDelta, wantLeft string
	}{
		{"long", longTiers(), wire.Buy, "3750", "750", "3100", "2960", "100", "-40", "20"},
		{"short", shortTiers(), wire.Sell, "2500", "500", "2900", "3060", "150", "-60", "30"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, testSymbol(t, tsym, c.tiers...))
			e.index(tsym, c.entry)
			e.fundDeposit(c.fund)
			for _, a := range []string{"bob", "carol", "erin"} {
				e.deposit(a, "100000")
			}
			e.deposit("alice", c.margin)
			e.deposit("dave", c.margin)
			e.openPosition("alice", "bob", c.side, c.entry, "1", 5)
			e.openPosition("dave", "carol", c.side, c.entry, "1", 5)
			e.leverage("erin", tsym, 5)
			e.mustPlace("erin", tsym, c.side, c.exec, "2") // the liquidity both IOCs take
			e.index(tsym, c.mark)
			e.x.quiesce()
			for _, a := range []string{"alice", "dave"} {
				if e.liquidations(a) != 1 || e.position(a, tsym) != nil {
					t.Fatalf("%s not liquidated", a)
				}
			}
			for _, a := range []string{"bob", "carol"} {
				if evs := e.rec.events(a, wire.EventADL); len(evs) != 0 {
					t.Fatalf("%s deleveraged: %+v", a, evs)
				}
			}
			if p := e.position("erin", tsym); p == nil || !p.Qty.Equal(dec("2")) || !p.EntryPrice.Equal(dec(c.exec)) {
				t.Fatalf("erin took %+v, want both lots at %s", p, c.exec)
			}
			e.rec.mu.Lock()
			deficits := map[string]string{}
			for _, f := range e.rec.fund {
				if f.Reason == wire.ReasonLiquidationDeficit {
					deficits[f.Account] = f.Delta.String()
				}
			}
			e.rec.mu.Unlock()
			if len(deficits) != 2 || deficits["alice"] != c.wantDelta || deficits["dave"] != c.wantDelta {
				t.Fatalf("fund deficits %v, want %s for alice and dave", deficits, c.wantDelta)
			}
			if got := e.fundBalance(); !got.Equal(dec(c.wantLeft)) {
				t.Fatalf("fund %s, want %s", got, c.wantLeft)
			}
			e.audit()
		})
	}
}
