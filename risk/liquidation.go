package risk

import (
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Exec is one execution of a liquidation: qty lots (> 0) closed at price.
type Exec struct {
	Price book.Ticks
	Qty   book.Lots
}

// legGainAt is sign(qty) × (Value(price, q) − Value(bk, q)) for lots
// done … done+q of a leg of sign(qty) closed at price instead of at its
// bankruptcy price bk, what that leaves for the insurance fund (linear:
// q × (price − bk) × m). Its bankruptcy part telescopes (Value(bk, done+q) − Value(bk, done)), so
// the parts of a whole leg add up to exactly the Value(bk, |Qty|) its Base
// counted (an inverse value rounds per amount; a linear one is additive).
func legGainAt(sym *market.Symbol, long bool, bk, price book.Ticks, done, q book.Lots) market.Money {
	return legGainOf(sym, long, bk, sym.Value(price, q), done, q)
}

// legGainOf is legGainAt for lots whose trade is worth value (a fill's
// part: Account.TakeFill).
func legGainOf(sym *market.Symbol, long bool, bk book.Ticks, value market.Money, done, q book.Lots) market.Money {
	g := value - (sym.Value(bk, done+q) - sym.Value(bk, done))
	if !long {
		g = -g
	}
	return g
}

// SettlementSurplus returns the surplus (+, to the insurance fund) or
// deficit (−, drawn from it) of closing the bankrupt position qty (signed)
// with bankruptcy price bk through execs: Σ sign(qty) × q × (p − bk) × m.
// A long bankrupt at 3000 sold at 3060 leaves +60 per unit, at 2960 −40.
// BadRequest when qty is 0, an exec has qty ≤ 0 or price outside
// [1, 2×MaxPrice], or the execs close more than |qty|.
func SettlementSurplus(sym *market.Symbol, qty book.Lots, bk book.Ticks, execs []Exec) (market.Money, Code) {
	if qty == 0 || bk < 0 || bk > 2*sym.MaxPrice {
		return 0, BadRequest
	}
	var s market.Money
	left := abs(qty)
	for _, e := range execs {
		if e.Qty <= 0 || e.Qty > left || e.Price < 1 || e.Price > 2*sym.MaxPrice {
			return 0, BadRequest
		}
		s += legGainAt(sym, qty > 0, bk, e.Price, abs(qty)-left, e.Qty)
		left -= e.Qty
	}
	return s, OK
}

// LiquidationLeg is one position taken over by a liquidation.
type LiquidationLeg struct {
	Symbol *market.Symbol
	// Qty is the signed size taken over, Remaining what is still to close.
	Qty, Remaining book.Lots
	Cost           market.Money
	// Bankruptcy and Liquidation ticks at takeover, Mark the mark then.
	// Liquidation assumes the other cross legs at their marks; Bankruptcy
	// is where the leg's share of the equity is used up (doc.go, the joint
	// rule), so closing every leg at it leaves the book at zero. Bankruptcy
	// is clamped to [1, MaxPrice].
	Bankruptcy, Liquidation, Mark book.Ticks
	// Deficit is the leg's equity below zero at its Bankruptcy tick: 0
	// unless the clamp moved the tick against the fund (a short bankrupt at
	// every price, a long bankrupt only above MaxPrice). The fund, or ADL's
	// socialized charges, must cover it even if the leg closes at the tick.
	Deficit market.Money
	// Gain is Σ legGain over the executions so far, Executed their notional.
	Gain, Executed market.Money
}

// Liquidation is a bankrupt book taken over from an account: its legs, and
// the escrow (the cross cash, or the isolated margin) that backed them. It
// is closed by liquidation-order fills and ADL closes, then Settle says what
// the insurance fund gets or pays. Pure value like Account.
type Liquidation struct {
	Account book.AccountID
	Mode    MarginMode
	Escrow  market.Money
	Legs    []LiquidationLeg
	// Base is the book's equity with every leg at its bankruptcy tick:
	// Escrow − Σ (Cost − Qty·Bankruptcy·m) = Σ of each leg's equity at its
	// tick. Without clamped ticks it is ≥ 0 and below one tick per lot of
	// each leg (every tick rounds in the fund's favour): the rounding dust
	// the fund receives when every leg closes at its bankruptcy tick.
	Base market.Money
	// Deficit = max(0, −Base): what the fund must pay if every leg closes at
	// its bankruptcy tick. 0 unless a leg has a Deficit, or the takeover
	// left the account flat with negative cash (folded into Escrow).
	Deficit market.Money
}

// StartLiquidation takes over sym's liquidatable position (isolated) or all
// the cross positions (cross) into a Liquidation, sets the account in
// liquidation (no new orders until EndLiquidation) and returns the open
// orders to cancel (isolated: sym's; cross: all), ascending. The account is
// left with zero cash (cross) or zero margin (isolated), so its balance is
// never negative after liquidation: the fund takes the rest. NoPosition
// without a position, NotLiquidatable when the stored marks do not
// liquidate it, AccountInLiquidation when already liquidating.
func (a *Account) StartLiquidation(sym *market.Symbol) (*Liquidation, []book.OrderID, Code) {
	i := a.find(sym)
	switch {
	case a.inLiq:
		return nil, nil, AccountInLiquidation
	case i < 0 || a.pos[i].qty == 0:
		return nil, nil, NoPosition
	case !a.liquidatable(i):
		return nil, nil, NotLiquidatable
	}
	mode := a.pos[i].mode
	l := &Liquidation{Account: a.id, Mode: mode}
	var take []int
	if mode == Isolated {
		take = []int{i}
		l.Escrow = a.pos[i].margin
	} else {
		for j := range a.pos {
			if a.pos[j].qty != 0 && a.pos[j].mode == Cross {
				take = append(take, j)
			}
		}
		l.Escrow = a.cash
	}
	l.Base = l.Escrow
	for _, j := range take {
		p := &a.pos[j]
		wBk := a.recompute(j) // the takeover's ticks are never a stale cache
		l.Legs = append(l.Legs, LiquidationLeg{
			Symbol: p.sym, Qty: p.qty, Remaining: p.qty, Cost: p.cost,
			Bankruptcy: p.bk, Liquidation: p.liq, Mark: p.mark, Deficit: p.bkDeficit(wBk, p.bk),
		})
		l.Base -= p.cost - p.sym.Value(p.bk, p.qty)
	}
	var cancel []book.OrderID
	for _, o := range a.orders.Values() {
		if mode == Cross || int(o.slot) == i {
			cancel = append(cancel, o.id)
		}
	}
	slices.Sort(cancel)
	for _, j := range take {
		p := &a.pos[j]
		p.qty, p.cost, p.margin = 0, 0, 0
		a.updateOrderMargin(j)
	}
	if mode == Cross {
		a.cash = 0
	}
	a.inLiq = true
	a.afterChange(-1)
	if a.nOpen == 0 && a.cash < 0 {
		// The last (isolated) position left with the cross cash below zero:
		// nothing backs it any more, so the liquidation takes the shortfall
		// and the flat account shows zero, never a negative balance.
		l.Escrow += a.cash
		l.Base += a.cash
		a.cash = 0
	}
	l.Deficit = max(0, -l.Base)
	return l, cancel, OK
}

// EndLiquidation lets the account trade again.
func (a *Account) EndLiquidation() { a.inLiq = false }

// Leg returns sym's leg or nil.
func (l *Liquidation) Leg(sym *market.Symbol) *LiquidationLeg {
	for i := range l.Legs {
		if l.Legs[i].Symbol == sym {
			return &l.Legs[i]
		}
	}
	return nil
}

// ApplyFill books an execution closing qty lots of sym's leg at price (a
// liquidation-order fill, or an ADL close at the leg's Bankruptcy tick).
// BadRequest for an unknown leg, qty ≤ 0 or above Remaining, or a price
// outside [1, 2×MaxPrice].
func (l *Liquidation) ApplyFill(sym *market.Symbol, price book.Ticks, qty book.Lots) Code {
	_, code := l.apply(sym, price, qty, sym.Value(price, qty))
	return code
}

// ApplyOrderFill is ApplyFill for lots of a fill of the account's own
// order whose trade is worth value (Account.TakeFill: the part of the
// fill's value the account's position does not book), so the parts add
// up to what the counterparty booked. The order was bounded by the
// bankruptcy price of its sending (Account.CloseBound; a limit beyond it
// is refused), which the takeover's tick may have moved past since (on a
// cross account another position's loss moves every leg's share of the
// equity): the liquidation's own executions lose beyond the tick only
// what the fund reserved, this fill anything. Its loss beyond the tick
// (≤ 0, returned) is therefore no execution's: it stays out of the leg's
// Gain, and the caller books it into the equity as a change of it
// (Funding) and moves the open legs' ticks by it (MoveBankruptcy), as a
// sequenced engine, matching the order before the mark that took the
// account over, would have left the other positions that much less
// equity. BadRequest as ApplyFill's.
func (l *Liquidation) ApplyOrderFill(sym *market.Symbol, price book.Ticks, qty book.Lots, value market.Money) (loss market.Money, code Code) {
	gain, code := l.apply(sym, price, qty, value)
	if code != OK {
		return 0, code
	}
	loss = min(0, gain)
	l.Leg(sym).Gain -= loss
	return loss, OK
}

// apply books qty lots of sym's leg closed at price, their trade worth
// value, and returns their gain (legGainOf).
func (l *Liquidation) apply(sym *market.Symbol, price book.Ticks, qty book.Lots, value market.Money) (gain market.Money, code Code) {
	g := l.Leg(sym)
	if g == nil || qty <= 0 || qty > abs(g.Remaining) || price < 1 || price > 2*sym.MaxPrice {
		return 0, BadRequest
	}
	long := g.Qty > 0
	gain = legGainOf(sym, long, g.Bankruptcy, value, abs(g.Qty)-abs(g.Remaining), qty)
	g.Gain += gain
	g.Executed += sym.Notional(price, qty)
	if long {
		g.Remaining -= qty
	} else {
		g.Remaining += qty
	}
	return gain, OK
}

// PriceBound is the worst price the leg's liquidation order may trade at,
// whatever the book and the reservation: its symbol's LiquidationBound of
// its Bankruptcy tick; 0 (no bound) when that tick is a clamp against the
// fund (Deficit > 0), no bankruptcy price to measure slippage from: bound
// there, a thin book would send the leg to ADL at a tick no counterparty
// can afford, and it would wait forever.
func (g *LiquidationLeg) PriceBound() book.Ticks {
	if g.Deficit > 0 {
		return 0
	}
	return g.Symbol.LiquidationBound(g.Qty > 0, g.Bankruptcy)
}

// BoundLimit clamps the limit x of a liquidation order closing a long (a
// sell) or a short (a buy) to the leg's bound (PriceBound, 0 none: the
// tighter wins) and to the price band around mark; 0 when no price in
// the band is within the bound (the leg goes to ADL).
func BoundLimit(sym *market.Symbol, long bool, bound, x, mark book.Ticks) book.Ticks {
	lo, hi := sym.Band(mark)
	if long {
		if bound > hi {
			return 0
		}
		return min(max(x, bound, lo), hi)
	}
	if bound > 0 && bound < lo {
		return 0
	}
	if bound > 0 {
		x = min(x, bound)
	}
	return max(min(x, hi), lo)
}

// OrderLimit is the limit of the IOC liquidation order for sym's leg given a
// coverage reservation R from the fund (DESIGN.md): bankruptcy − R/(q·m) for
// a long, + for a short, with R/(q·m) rounded down so the deficit of a full
// fill never exceeds R, no worse than the leg's PriceBound and clamped to
// the price band around mark (BoundLimit). 0 for an unknown or closed leg,
// or when no price in the band is within the bound.
func (l *Liquidation) OrderLimit(sym *market.Symbol, reserve market.Money, mark book.Ticks) book.Ticks {
	g := l.Leg(sym)
	if g == nil || g.Remaining == 0 || reserve < 0 {
		return 0
	}
	long := g.Qty > 0
	return BoundLimit(sym, long, g.PriceBound(), g.reserveLimit(reserve), mark)
}

// reserveLimit is the furthest price from bankruptcy whose full fill of
// the leg's remainder loses at most reserve (unclamped).
func (g *LiquidationLeg) reserveLimit(reserve market.Money) book.Ticks {
	sym, q := g.Symbol, abs(g.Remaining)
	if sym.Kind == market.Inverse {
		bk := int64(g.Bankruptcy)
		if g.Qty > 0 {
			worse := func(x int64) bool { return sym.ValueDiff(g.Bankruptcy, book.Ticks(x), q) > reserve }
			return book.Ticks(lastTrue(worse, 1, bk, bk) + 1)
		}
		ok := func(x int64) bool { return sym.ValueDiff(book.Ticks(x), g.Bankruptcy, q) <= reserve }
		return book.Ticks(lastTrue(ok, bk, 2*int64(sym.MaxPrice), bk))
	}
	room := book.Ticks(int64(reserve) / (int64(q) * int64(sym.Multiplier)))
	if g.Qty > 0 {
		return g.Bankruptcy - room
	}
	return g.Bankruptcy + room
}

// Done is true when every leg is closed.
func (l *Liquidation) Done() bool {
	for i := range l.Legs {
		if l.Legs[i].Remaining != 0 {
			return false
		}
	}
	return true
}

// Settlement is the outcome of a closed liquidation.
type Settlement struct {
	// Surplus = Base + Σ Gain = Escrow + Σ (proceeds − cost): what is left of
	// the margin at execution; negative is a deficit.
	Surplus market.Money
	// Fee is the liquidation fee for the fees ledger: min(Surplus,
	// Σ ⌈Executed × LiquidationFee⌉), never negative.
	Fee market.Money
	// Fund is Surplus − Fee: + into the insurance fund, − drawn from it.
	Fund market.Money
}

// Settle returns the settlement once Done; Internal before that.
func (l *Liquidation) Settle() (Settlement, Code) {
	if !l.Done() {
		return Settlement{}, Internal
	}
	s := Settlement{Surplus: l.Base}
	var fee market.Money
	for i := range l.Legs {
		g := &l.Legs[i]
		s.Surplus += g.Gain
		fee += market.Money(market.MustMulDiv(int64(g.Executed), int64(g.Symbol.LiquidationFee), market.RateScale, true))
	}
	s.Fee = min(max(s.Surplus, 0), fee)
	s.Fund = s.Surplus - s.Fee
	return s, OK
}

// Funding books a funding payment (+ received, − paid) of a leg while the
// liquidation holds it, or another change of its equity (the fee of a fill
// of the account's own order, − paid: Account.TakeFill, and its loss
// beyond the leg's tick: ApplyOrderFill): the escrow takes
// it, as the account's margin would have, so Base and Deficit move by
// amount. MoveBankruptcy then moves the leg's tick by it.
func (l *Liquidation) Funding(amount market.Money) {
	l.Escrow += amount
	l.Base += amount
	l.Deficit = max(0, -l.Base)
}

// MoveBankruptcy moves the Bankruptcy tick of sym's leg by an equity change
// of amount (+ more margin, − less: the leg's funding, booked by Funding)
// spread over its Remaining lots, as a position's bankruptcy price moves
// with its margin: a long that paid moves up by amount/(q·m), one that
// received down (a short the other way). The new tick is the nearest whose
// closing of the remainder gives back at least what amount took from Base
// (the fund's favour, as at the takeover), so Base stays ≥ its value before
// Funding: ADL closes and fills at the new tick cover the payment. Clamped
// to [1, MaxPrice], what the clamp leaves is the leg's Deficit. A closed
// leg, or one already clamped against the fund (Deficit > 0: its tick is
// no bankruptcy price), keeps its tick and amount stays in Base; moved
// reports whether the tick moved. BadRequest for an unknown leg.
func (l *Liquidation) MoveBankruptcy(sym *market.Symbol, amount market.Money) (moved bool, code Code) {
	g := l.Leg(sym)
	if g == nil {
		return false, BadRequest
	}
	if g.Remaining == 0 || amount == 0 || g.Deficit > 0 {
		return false, OK
	}
	long, q := g.Qty > 0, abs(g.Qty)
	done := q - abs(g.Remaining)
	// rest is the remaining lots' part of Base at tick x (legGainAt's
	// telescoping from done on).
	rest := func(x book.Ticks) market.Money {
		v := sym.Value(x, q) - sym.Value(x, done)
		if !long {
			v = -v
		}
		return v
	}
	// ok: the tick gives amount back both in Base and to a close of the
	// whole remainder there (an inverse value rounds each amount apart).
	n, was, wasAll := abs(g.Remaining), rest(g.Bankruptcy), sym.Value(g.Bankruptcy, abs(g.Remaining))
	ok := func(x int64) bool {
		all := sym.Value(book.Ticks(x), n) - wasAll
		if !long {
			all = -all
		}
		return amount+rest(book.Ticks(x))-was >= 0 && amount+all >= 0
	}
	hi, bk := int64(sym.MaxPrice), int64(g.Bankruptcy)
	var x int64
	if long { // rest grows with the tick: the lowest that is ok
		x = lastTrue(func(x int64) bool { return !ok(x) }, 1, hi, bk) + 1
		for x <= hi && !ok(x) { // an inverse value's rounding
			x++
		}
	} else { // the highest that is ok
		x = lastTrue(ok, 1, hi, bk)
		for x >= 1 && !ok(x) {
			x--
		}
	}
	x = min(max(x, 1), hi)
	left := amount + rest(book.Ticks(x)) - was
	l.Base += left - amount
	l.Deficit = max(0, -l.Base)
	g.Deficit = max(0, -left)
	moved = book.Ticks(x) != g.Bankruptcy
	g.Bankruptcy = book.Ticks(x)
	return moved, OK
}
