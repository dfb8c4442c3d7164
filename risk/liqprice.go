package risk

import (
	"math"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Liquidation and bankruptcy prices (formulas in doc.go).
//
// For a position of q lots (signed) with cost basis C backed by W, equity at
// price P is E(P) = W + q·P·m − C and the position is liquidatable at P when
// E(P) ≤ MM(|q|·P·m). W is the isolated margin, or for cross the cash plus
// the other cross positions' (uPnL − MM) at their marks. For the bankruptcy
// price a cross position is backed by its share of the cross equity (the
// joint rule, crossShare) less its own uPnL. E − MM is monotone in P, so the
// liquidatable prices are [1, liq] for a long and [liq, MaxPrice] for a
// short: a mark tick is one comparison against the cached tick.

// equityAt is E(x) for slot p backed by w.
func (p *position) equityAt(w market.Money, x book.Ticks) market.Money {
	return w + p.sym.PnL(p.qty, p.cost, x)
}

// liqAt reports whether slot p backed by w is liquidatable at price x.
func (p *position) liqAt(w market.Money, x book.Ticks) bool { return p.aboveMM(w, x) <= 0 }

// aboveMM is how far the equity with wallet w at x is above the
// maintenance margin there.
func (p *position) aboveMM(w market.Money, x book.Ticks) market.Money {
	return p.equityAt(w, x) - p.sym.MaintenanceMargin(p.sym.Notional(x, p.qty))
}

// triggered is the comparison a mark tick costs.
func (p *position) triggered(mark book.Ticks) bool {
	if p.qty > 0 {
		return mark <= p.liq
	}
	return mark >= p.liq
}

// backing returns W for the liquidation price and for the bankruptcy price
// of slot i.
func (a *Account) backing(i int) (wLiq, wBk market.Money) {
	p := &a.pos[i]
	if p.mode == Isolated {
		return p.margin, p.margin
	}
	if a.nCross == 1 { // the fill hot path: only cash backs a lone position
		return a.cash, a.cash
	}
	wLiq = a.cash
	for j := range a.pos {
		o := &a.pos[j]
		if j == i || o.qty == 0 || o.mode != Cross {
			continue
		}
		wLiq += o.upnl() - o.maintenance()
	}
	return wLiq, a.crossShare(i) - p.upnl()
}

// crossShare is cross slot i's share of the cross equity E = cash + Σ cross
// uPnL at the stored marks (doc.go, "the joint bankruptcy rule"): E split
// over the cross slots by maintenance margin (by notional when Σ MM is 0)
// with market.Split's rule, in slot order, so the shares add up to E
// exactly and the rounding dust goes to the later slots. A lone cross
// position's share is E, its backing the cash.
func (a *Account) crossShare(i int) market.Money {
	eq, mm := a.crossEquityMM()
	weight := (*position).maintenance
	if mm == 0 {
		weight = (*position).notional
		for j := range a.pos {
			if o := &a.pos[j]; o.qty != 0 && o.mode == Cross {
				mm += o.notional()
			}
		}
	}
	if mm == 0 { // no weight at all (never with marks ≥ 1): the last slot takes E
		for j := len(a.pos) - 1; j > i; j-- {
			if a.pos[j].qty != 0 && a.pos[j].mode == Cross {
				return 0
			}
		}
		return eq
	}
	var before market.Money
	for j := range i {
		if o := &a.pos[j]; o.qty != 0 && o.mode == Cross {
			before += weight(o)
		}
	}
	return market.SplitPart(eq, before, weight(&a.pos[i]), mm)
}

// Collateral is what backs sym's position excluding its own unrealized PnL:
// the isolated margin, or the position's share of the cross equity
// (crossShare) less its uPnL, at the stored marks; 0 without a position.
// The ADL ranking ranks by it (effective leverage), so risk's bankruptcy
// prices and the ranking's leverage split cross equity by one rule.
func (a *Account) Collateral(sym *market.Symbol) market.Money {
	i := a.find(sym)
	if i < 0 || a.pos[i].qty == 0 {
		return 0
	}
	p := &a.pos[i]
	if p.mode == Isolated {
		return p.margin
	}
	if a.nCross == 1 {
		return a.cash
	}
	return a.crossShare(i) - p.upnl()
}

// recompute refreshes slot i's cached liquidation and bankruptcy ticks and
// returns the bankruptcy backing it used.
func (a *Account) recompute(i int) (wBk market.Money) {
	p := &a.pos[i]
	wl, wb := a.backing(i)
	p.liq = p.solveLiq(wl)
	p.bk = p.solveBk(wb)
	p.fresh = true
	return wb
}

// solveLiq returns the trigger tick: for a long the highest price in
// [1, MaxPrice] that is liquidatable (0: none), for a short the lowest
// (MaxPrice+1: none).
func (p *position) solveLiq(w market.Money) book.Ticks {
	g := p.guessLiq(w)
	hi := int64(p.sym.MaxPrice)
	if p.qty > 0 {
		return book.Ticks(lastTrue(func(x int64) bool { return p.liqAt(w, book.Ticks(x)) }, 1, hi, g))
	}
	return book.Ticks(lastTrue(func(x int64) bool { return !p.liqAt(w, book.Ticks(x)) }, 1, hi, g-1) + 1)
}

// solveBk returns the bankruptcy tick: for a long the lowest price with
// E ≥ 0, ⌈(C − W)/(q·m)⌉; for a short the highest, ⌊(W − C)/(|q|·m)⌋;
// clamped to [1, MaxPrice] so every close can use it (bkDeficit is what the
// clamp leaves uncovered).
func (p *position) solveBk(w market.Money) book.Ticks {
	if p.sym.Kind == market.Inverse {
		return p.searchBk(w)
	}
	qm := int64(p.qty) * int64(p.sym.Multiplier)
	var b int64
	if qm > 0 {
		b = ceilDiv(int64(p.cost-w), qm)
	} else {
		b = floorDiv(int64(w-p.cost), -qm)
	}
	return book.Ticks(min(max(b, 1), int64(p.sym.MaxPrice)))
}

// searchBk is solveBk by search (inverse contracts: E is monotone in the
// price, but not linear in it): a long's lowest tick with E ≥ 0, a short's
// highest, clamped to [1, MaxPrice].
func (p *position) searchBk(w market.Money) book.Ticks {
	hi := int64(p.sym.MaxPrice)
	g := p.guessLiq(w)
	neg := func(x int64) bool { return p.equityAt(w, book.Ticks(x)) < 0 }
	if p.qty > 0 {
		return book.Ticks(min(max(lastTrue(neg, 1, hi, g)+1, 1), hi))
	}
	return book.Ticks(min(max(lastTrue(func(x int64) bool { return !neg(x) }, 1, hi, g), 1), hi))
}

// bkDeficit is how far below zero the equity of slot p backed by w is at its
// bankruptcy tick bk: 0 unless the clamp of solveBk moved bk against the
// fund (a long bankrupt above MaxPrice, a short bankrupt below 1 tick).
func (p *position) bkDeficit(w market.Money, bk book.Ticks) market.Money {
	return max(0, -p.equityAt(w, bk))
}

// guessLiq solves E(P) = MM(P) in floating point, tier by tier (the root is
// the one that falls inside its own tier). It is only the starting point of
// lastTrue's exact search, so its rounding never matters.
func (p *position) guessLiq(w market.Money) int64 {
	if p.sym.Kind == market.Inverse {
		return p.guessInverse(w)
	}
	q := float64(p.qty) * float64(p.sym.Multiplier)
	base := float64(p.cost) - float64(w) // C − W
	prev := 0.0
	guess := 1.0
	for _, t := range p.sym.Tiers {
		r := float64(t.MMR) / market.RateScale
		var x float64
		if q > 0 {
			x = (base - float64(t.Cum)) / (q * (1 - r))
		} else {
			x = (float64(t.Cum) - base) / (-q * (1 + r))
		}
		guess = x
		if n := math.Abs(q) * x; n > prev && n <= float64(t.MaxNotional) {
			break
		}
		prev = float64(t.MaxNotional)
	}
	if !(guess >= 1) { // also NaN
		return 1
	}
	if guess >= float64(p.sym.MaxPrice) {
		return int64(p.sym.MaxPrice)
	}
	return int64(guess)
}

// guessInverse is guessLiq for an inverse contract: with k = |q|·K and the
// long's E(P) = W − C − k/P against MM = r·k/P − cum, the root is
// P = (1 + r)·k / (W − C + cum); a short's E(P) = W − C + k/P gives
// P = (1 − r)·k / (C − W − cum). Tier by tier as guessLiq.
func (p *position) guessInverse(w market.Money) int64 {
	k := math.Abs(float64(p.qty)) * float64(p.sym.InverseK)
	base := float64(w) - float64(p.cost) // W − C
	guess := 1.0
	prev := 0.0
	for _, t := range p.sym.Tiers {
		r := float64(t.MMR) / market.RateScale
		if p.qty > 0 {
			guess = (1 + r) * k / (base + float64(t.Cum))
		} else {
			guess = (1 - r) * k / (-base - float64(t.Cum))
		}
		if n := k / guess; n > prev && n <= float64(t.MaxNotional) {
			break
		}
		prev = float64(t.MaxNotional)
	}
	if !(guess >= 1) { // also NaN and negative roots
		return 1
	}
	if guess >= float64(p.sym.MaxPrice) {
		return int64(p.sym.MaxPrice)
	}
	return int64(guess)
}

// lastTrue returns the largest x in [lo, hi] with pred(x), or lo−1 when there
// is none; pred must be true up to some point and false after it. It starts
// at guess and gallops, so a good guess costs two or three calls.
func lastTrue(pred func(int64) bool, lo, hi, guess int64) int64 {
	g := min(max(guess, lo), hi)
	var t, f int64 // pred(t) (or t = lo−1), !pred(f) (or f = hi+1)
	if pred(g) {
		t, f = g, hi+1
		for step := int64(1); t+step <= hi; step *= 2 {
			if !pred(t + step) {
				f = t + step
				break
			}
			t += step
		}
	} else {
		t, f = lo-1, g
		for step := int64(1); f-step >= lo; step *= 2 {
			if pred(f - step) {
				t = f - step
				break
			}
			f -= step
		}
	}
	for f-t > 1 {
		m := t + (f-t)/2
		if pred(m) {
			t = m
		} else {
			f = m
		}
	}
	return t
}

// afterChange runs after anything that moves cash, a margin or a position
// in slot i (i < 0: cash only): recount the cross positions and refresh the
// cached prices the mark trigger relies on. An isolated position depends
// only on itself; a lone cross position on cash; with several cross
// positions each one's price depends on the others' marks, so they are left
// stale and the trigger evaluates the account directly (OnMark).
func (a *Account) afterChange(i int) {
	a.nOpen, a.nCross, a.crossSlot = 0, 0, -1
	for j := range a.pos {
		p := &a.pos[j]
		if p.qty == 0 {
			p.fresh = false
			continue
		}
		a.nOpen++
		if p.mode == Cross {
			a.nCross++
			a.crossSlot = j
			p.fresh = false
		}
	}
	if a.nCross == 1 {
		a.recompute(a.crossSlot)
	}
	if i >= 0 && a.pos[i].mode == Isolated && a.pos[i].qty != 0 {
		a.recompute(i)
	}
}

// liquidatable evaluates slot i (or, for cross, the account) exactly at the
// stored marks.
func (a *Account) liquidatable(i int) bool {
	if p := &a.pos[i]; p.mode == Isolated && p.qty == 0 || p.mode != Isolated && a.nCross == 0 {
		return false
	}
	return a.headroom(i) <= 0
}

// headroom is how far the margin behind position i (its own, isolated;
// the cross account's) is above its maintenance margin at the stored
// marks: at or below 0 it is liquidatable.
func (a *Account) headroom(i int) market.Money {
	if p := &a.pos[i]; p.mode == Isolated {
		return p.aboveMM(p.margin, p.mark)
	}
	eq, mm := a.crossEquityMM()
	return eq - mm
}

// OnMark stores sym's new mark and reports whether the account must be
// liquidated: for an isolated position, or a lone cross position, one
// comparison with the cached liquidation tick; with k ≥ 2 cross positions
// the cross equity and maintenance margin are summed directly (O(k), k is
// small) because each cached price assumes the others' marks. The mark is
// clamped to [1, MaxPrice]; accounts already in liquidation report false.
func (a *Account) OnMark(sym *market.Symbol, mark book.Ticks) bool {
	i := a.find(sym)
	if i < 0 {
		return false
	}
	p := &a.pos[i]
	p.mark = min(max(mark, 1), sym.MaxPrice)
	if p.qty == 0 {
		return false
	}
	if p.mode == Cross && a.nCross > 1 {
		// Every cross price depends on this mark (even while an isolated
		// liquidation runs): recompute them lazily.
		for j := range a.pos {
			a.pos[j].fresh = a.pos[j].fresh && a.pos[j].mode == Isolated
		}
	}
	if a.inLiq {
		return false
	}
	if p.mode == Isolated || a.nCross == 1 {
		if !p.fresh { // never after afterChange; kept as a guard
			a.recompute(i)
		}
		return p.triggered(p.mark)
	}
	eq, mm := a.crossEquityMM()
	return eq <= mm
}

// prices returns slot i's cached ticks, recomputing them when stale.
func (a *Account) prices(i int) (liq, bk book.Ticks) {
	if !a.pos[i].fresh {
		a.recompute(i)
	}
	return a.pos[i].liq, a.pos[i].bk
}

// LiquidationPrice is the mark at or beyond which sym's position is
// liquidated (for cross: given the other symbols at their marks). ok is false
// without a position or when no mark in [1, MaxPrice] liquidates it.
func (a *Account) LiquidationPrice(sym *market.Symbol) (liq book.Ticks, ok bool) {
	i := a.find(sym)
	if i < 0 || a.pos[i].qty == 0 {
		return 0, false
	}
	liq, _ = a.prices(i)
	return liq, liq >= 1 && liq <= sym.MaxPrice
}

// BankruptcyPrice is the price at which sym's position's equity is zero
// (rounded to the tick where equity is still ≥ 0; for k ≥ 2 cross
// positions: where the position's share of the cross equity is used up,
// doc.go), clamped to [1, MaxPrice]. ok is false without a position.
func (a *Account) BankruptcyPrice(sym *market.Symbol) (bk book.Ticks, ok bool) {
	i := a.find(sym)
	if i < 0 || a.pos[i].qty == 0 {
		return 0, false
	}
	_, bk = a.prices(i)
	return bk, true
}

// CloseBankruptcyPrice is the worst price a close of sym's position may
// trade at, its own or its orders': the bankruptcy price, moved as far as
// the close's taker fee needs where nothing else pays it. A cross close
// pays loss and fee from what backs the position (its share of the cross
// equity); an isolated one its loss from the margin and its fee from the
// cash, so only a fee the cash cannot pay moves it. Clamped to
// [1, MaxPrice]; ok is false without a position.
func (a *Account) CloseBankruptcyPrice(sym *market.Symbol) (bk book.Ticks, ok bool) {
	i := a.find(sym)
	if i < 0 || a.pos[i].qty == 0 {
		return 0, false
	}
	return a.closeBk(i), true
}

// closeBk is CloseBankruptcyPrice of slot i.
func (a *Account) closeBk(i int) book.Ticks {
	_, bk := a.prices(i)
	p := &a.pos[i]
	if p.sym.TakerFee == 0 {
		return bk
	}
	pays := a.closePays(i)
	hi := int64(p.sym.MaxPrice)
	if p.qty > 0 { // the lowest tick that pays
		return max(bk, book.Ticks(min(lastTrue(func(x int64) bool { return !pays(x) }, 1, hi, int64(bk))+1, hi)))
	}
	return min(bk, book.Ticks(max(lastTrue(pays, 1, hi, int64(bk)), 1)))
}

// closePays returns whether a close of slot i's whole position at a price
// leaves what backs it able to pay the close's taker fee (closeBk):
// monotone, true from the bound on (a long) or up to it (a short).
func (a *Account) closePays(i int) func(int64) bool {
	p, w := &a.pos[i], a.closeBacking(i)
	return func(x int64) bool { return p.paysCloseAt(w, book.Ticks(x)) }
}

// closeBacking is what backs slot i's position when it closes: its share
// of the cross equity, or its isolated margin and the free cash.
func (a *Account) closeBacking(i int) market.Money {
	_, w := a.backing(i)
	if a.pos[i].mode == Isolated {
		w += max(a.cash, 0)
	}
	return w
}

// paysCloseAt says whether the position closed whole at x, backed by w,
// still pays the close's taker fee.
func (p *position) paysCloseAt(w market.Money, x book.Ticks) bool {
	fee := market.MustMulDiv(int64(p.sym.Notional(x, p.qty)), int64(p.sym.TakerFee), market.RateScale, true)
	return p.equityAt(w, x) >= market.Money(fee)
}

// PastCloseBound says whether a close of sym's position at price would
// trade past CloseBankruptcyPrice (false without a position).
func (a *Account) PastCloseBound(sym *market.Symbol, price book.Ticks) bool {
	i := a.find(sym)
	return i >= 0 && a.pos[i].qty != 0 && a.pastCloseBound(i, price)
}

// pastCloseBound says whether a close of slot i's position at price would
// trade past CloseBankruptcyPrice (a long's sell below it, a short's buy
// above it), with one test of the price instead of closeBk's search.
func (a *Account) pastCloseBound(i int, price book.Ticks) bool {
	_, bk := a.prices(i)
	p := &a.pos[i]
	switch {
	case against(p.closing(), price, bk):
		return true
	case p.sym.TakerFee == 0:
		return false
	}
	return !p.paysCloseAt(a.closeBacking(i), price) // no closure: this runs on every fill
}

// withCashOut returns f's answer with amount out of the cash (the prices
// it moves recomputed), then puts the cash back as it was: what the
// account's closes would face were that money gone.
func (a *Account) withCashOut(amount market.Money, f func() bool) bool {
	a.cash -= amount
	a.afterChange(-1)
	ok := f()
	a.cash += amount
	a.afterChange(-1)
	return ok
}

// AsIsolatedOpensFill returns f's answer with what the isolated
// positions' opening orders reserve (isoOrderMargin) out of the cash, the
// prices that moves recomputed, then puts the cash back: their initial
// margin and fee leave it as they fill, maybe before a close does, so a
// move of the cash (PreTrade's new close, a withdrawal, a margin move, the
// actors' cancel of resting closes past the bound) is judged as if they
// had. Inside f, PastCloseBound is PreTrade's stricter close test
// (CloseBeyondIsolatedOpens), which any close past at the cash fails too
// (less cash never moves a bound back toward the mark). Without such
// orders (O(1)) f sees the account as it is. f must not change the
// account.
func (a *Account) AsIsolatedOpensFill(f func() bool) bool {
	if a.isoOrderMargin <= 0 {
		return f()
	}
	return a.withCashOut(a.isoOrderMargin, f)
}

// CloseBound is CloseBankruptcyPrice with what the isolated positions'
// opening orders reserve out of the cash (AsIsolatedOpensFill): the bound of a
// market close, which PreTrade holds a limit close to as well. Without
// such orders (the O(1) test) it is CloseBankruptcyPrice.
func (a *Account) CloseBound(sym *market.Symbol) (bk book.Ticks, ok bool) {
	i := a.find(sym)
	if i < 0 || a.pos[i].qty == 0 {
		return 0, false
	}
	a.AsIsolatedOpensFill(func() bool { bk = a.closeBk(i); return true })
	return bk, true
}

// HoldsCloses says whether some position has open orders on the side that
// closes it: only those can end past its close bound (PastCloseBound) when
// the account's state moves its bankruptcy price, so the actors look for
// them only then. O(positions), no search.
func (a *Account) HoldsCloses() bool {
	for i := range a.pos {
		if p := &a.pos[i]; p.qty != 0 && p.side[sideIdx(p.closing())].qty > 0 {
			return true
		}
	}
	return false
}

// SharesCross says whether sym's mark moves bankruptcy prices: its
// position is cross and shares the cross equity with another (doc.go, the
// joint rule). A lone cross position's bankruptcy price does not depend on
// a mark, an isolated one's on neither mark nor cash (but for the fee).
func (a *Account) SharesCross(sym *market.Symbol) bool {
	if a.nCross < 2 {
		return false
	}
	i := a.find(sym)
	return i >= 0 && a.pos[i].qty != 0 && a.pos[i].mode == Cross
}

// OpenBound tightens bound, the worst price a market order of qty lots on
// side may fill at, to where the order's opening part (the lots beyond what
// closes the position) is not liquidatable the moment it fills
// (opensUnderMaintenance): a market buy into a thin book would otherwise
// open far above the mark and be liquidated at once, the fund paying its
// loss beyond the margin. Call it after PreTrade accepted the order.
func (a *Account) OpenBound(sym *market.Symbol, side book.Side, qty book.Lots, mark, bound book.Ticks) book.Ticks {
	i := a.find(sym)
	if i < 0 || mark <= 0 {
		return bound
	}
	p := &a.pos[i]
	so, c := &p.side[sideIdx(side)], p.closeCap(side)
	q := max(so.qty-c, 0) - max(so.qty-qty-c, 0) // PreTrade counted the order in so.qty
	if q <= 0 {
		return bound
	}
	w := p.worstQty(side, 0)
	under := func(x int64) bool { return p.opensUnderMaintenance(side, book.Ticks(x), q, w, mark) }
	if side == book.Buy { // the highest price that is not
		return book.Ticks(max(lastTrue(func(x int64) bool { return !under(x) }, 1, int64(bound), int64(mark)), 1))
	}
	return book.Ticks(lastTrue(under, int64(bound), int64(mark), int64(mark)) + 1) // the lowest
}
