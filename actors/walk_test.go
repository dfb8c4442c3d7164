package actors

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/wire"
)

// TestMoneyWalk: seeded random walks of three accounts over two symbols
// (orders, amends, cancels, leverage, margin moves, withdrawals, marks,
// funding times), each request answered before the next, the fund empty.
// After every step: no resting close is past its bankruptcy bound with the
// resting isolated opens' reservation out of the cash (placement's test,
// cancelPastCloses'), no account flat with cash below zero, nothing
// uncovered, the money conserved (env.audit).
func TestMoneyWalk(t *testing.T) {
	seeds, steps := 6, 250
	if testing.Short() {
		seeds, steps = 2, 100
	}
	if n, err := strconv.Atoi(os.Getenv("PERPX_WALK_SEEDS")); err == nil { // a longer hunt
		seeds = n
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { moneyWalk(t, uint64(seed), steps) })
	}
}

func moneyWalk(t *testing.T, seed uint64, steps int) {
	cfg := testConfig(tsym, longTiers()...)
	on := true
	cfg.Funding = &on
	e := otherEnvWith(t, "3000", wire.MarginIsolated, compileSymbol(t, cfg))
	e.marginModeIn("carol", tsym, wire.MarginIsolated)
	for _, a := range []string{"bob", "carol"} {
		if r := e.withdraw(a, "96000"); !r.OK {
			t.Fatalf("%s's withdrawal: %+v", a, r.Reply)
		}
	}
	e.deposit("dave", "100000") // the deep pocket: cross, leverage 5
	for _, s := range []string{tsym, otherSym} {
		e.leverage("dave", s, 5)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	accts := []string{"alice", "bob", "carol", "dave"}
	syms := []string{tsym, otherSym}
	mark := map[string]int{tsym: 3750, otherSym: 3750}
	var log []string
	for step := range steps {
		a, s := accts[rng.IntN(len(accts))], syms[rng.IntN(2)]
		m := mark[s]
		price := func() string { // near the mark mostly, anywhere in the band a quarter of the time
			if rng.IntN(4) == 0 {
				return fmt.Sprint(m/2 + rng.IntN(m) + 1)
			}
			return fmt.Sprint(m + rng.IntN(m/10+1) - m/20)
		}
		var what string
		switch k := rng.IntN(20); {
		case k < 8:
			side := wire.Buy
			if rng.IntN(2) == 0 {
				side = wire.Sell
			}
			tif := wire.GTC
			if rng.IntN(3) == 0 {
				tif = wire.IOC
			}
			p, q := price(), fmt.Sprint(1+rng.IntN(2))
			if pos := e.position(a, s); pos != nil && rng.IntN(2) == 0 { // a close near its bound
				side = wire.Buy
				if pos.Side == wire.Long {
					side = wire.Sell
				}
				bk := int(pos.BankruptcyPrice.IntPart())
				p, q = fmt.Sprint(max(bk, m/2+1, 1)+rng.IntN(41)), pos.Qty.String()
				if side == wire.Buy {
					p = fmt.Sprint(min(bk, m*3/2) - rng.IntN(41))
				}
				tif = wire.GTC
			}
			r := e.place(a, s, side, p, q, tif)
			what = fmt.Sprintf("%s %s %s %s@%s %s: %v", a, s, side, q, p, tif, r.OK)
		case k < 11:
			o := e.state(a).OpenOrders
			if len(o) == 0 {
				continue
			}
			id := o[rng.IntN(len(o))]
			if id.Symbol != s {
				s, m = id.Symbol, mark[id.Symbol]
			}
			p := price()
			r := call(t, func(d func(wire.OrderReply)) {
				e.x.AmendOrder(a, wire.Amend{Symbol: s, OrderID: id.OrderID, Price: dec(p)}, d)
			})
			what = fmt.Sprintf("%s amend %s to %s: %v", a, id.OrderID, p, r.OK)
		case k < 13:
			o := e.state(a).OpenOrders
			if len(o) == 0 {
				continue
			}
			id := o[rng.IntN(len(o))]
			call(t, func(d func(wire.OrderReply)) {
				e.x.CancelOrder(a, wire.Cancel{Symbol: id.Symbol, OrderID: id.OrderID}, d)
			})
			what = fmt.Sprintf("%s cancel %s", a, id.OrderID)
		case k < 14:
			lev := int64(1 + rng.IntN(5))
			r := call(t, func(d func(wire.LeverageReply)) {
				e.x.SetLeverage(a, wire.Leverage{Symbol: s, Leverage: dec(fmt.Sprint(lev))}, d)
			})
			what = fmt.Sprintf("%s %s leverage %d: %v", a, s, lev, r.OK)
		case k < 15:
			d := fmt.Sprint(rng.IntN(1000) - 500)
			r := e.positionMarginIn(a, s, d)
			what = fmt.Sprintf("%s %s margin %s: %v", a, s, d, r.OK)
		case k < 16:
			w := fmt.Sprint(1 + rng.IntN(2000))
			if av := e.state(a).Available; rng.IntN(2) == 0 && av.IsPositive() { // all of it, or nearly
				w = av.Sub(dec(fmt.Sprint(rng.IntN(50)))).Round(0).String()
			}
			r := e.withdraw(a, w)
			what = fmt.Sprintf("%s withdraw %s: %v", a, w, r.OK)
		case k < 17:
			e.deposit(a, "1000")
			what = a + " deposit 1000"
		case k < 19:
			mark[s] = max(1000, m+rng.IntN(601)-300)
			e.index(s, fmt.Sprint(mark[s]))
			what = fmt.Sprintf("index %s %d", s, mark[s])
		default:
			e.clk.advance(8 * time.Hour)
			e.index(tsym, fmt.Sprint(mark[tsym]))
			what = "funding " + tsym
		}
		log = append(log, what)
		e.x.quiesce()
		if bad := e.pastCloses(); bad != "" {
			t.Fatalf("seed %d step %d (%s): %s\n%v", seed, step, what, bad, log)
		}
		r := call(t, func(d func(AuditReport)) { e.x.audit(d) })
		if !r.Conserved() || len(r.Negative) != 0 || r.Uncovered != 0 || len(r.Failed) != 0 || r.OpenOrders != r.Resting {
			t.Fatalf("seed %d step %d (%s): audit %s\n%v", seed, step, what, r, log)
		}
	}
	if r := call(t, func(d func(AuditReport)) { e.x.audit(d) }); r.Liquidating == 0 {
		e.audit()
	}
	n := map[wire.EventType]int{}
	bounded := 0
	for _, a := range accts {
		for _, ev := range e.rec.accounts[a] {
			n[ev.Type]++
			if ev.Order != nil && ev.Order.CanceledByBankruptcy {
				bounded++
			}
		}
	}
	t.Logf("seed %d: events %v, %d canceled by the bound", seed, n, bounded)
}

// pastCloses names every account's resting close that is past its
// bankruptcy bound with the isolated opens' reservation out of the cash
// ("" when none): at a quiescent point no cancel of one is on its way.
func (e *env) pastCloses() string {
	e.t.Helper()
	var out string
	for _, ent := range e.x.accounts.all() {
		out += call(e.t, func(d func(string)) {
			e.x.root.Send(ent.pid, &testHook{fn: func(a *accountActor) {
				var bad string
				for _, o := range a.orders.Values() {
					if o.typ != book.Limit || o.cond != nil && !o.cond.fired {
						continue
					}
					acct := a.risk(o.h)
					if !o.closes(acct) || acct.InLiquidation() {
						continue
					}
					acct.AsIsolatedOpensFill(func() bool {
						if acct.PastCloseBound(o.h.sym, o.extreme()) {
							bk, _ := acct.CloseBound(o.h.sym)
							bad += fmt.Sprintf("%s's %s %s at %d past %d; ", a.e.name, o.h.sym.Name, o.side, o.extreme(), bk)
						}
						return true
					})
				}
				d(bad)
			}})
		})
	}
	return out
}
