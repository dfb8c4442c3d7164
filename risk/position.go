package risk

import (
	"math/bits"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// sideOrders aggregates one side's open orders in a symbol.
type sideOrders struct {
	qty      book.Lots    // remaining quantity
	roQty    book.Lots    // of which reduce-only
	notional market.Money // Σ remaining qty × margin price × multiplier
	loss     market.Money // Σ open loss (openOrder.loss)
}

// position is one symbol's slot in an account: the one-way position, its
// open orders and its cached liquidation and bankruptcy prices.
type position struct {
	sym      *market.Symbol
	mode     MarginMode
	lev      int64
	qty      book.Lots    // signed, + long
	cost     market.Money // signed Σ value of the open part's fills
	margin   market.Money // isolated margin (0 in cross)
	mark     book.Ticks
	realized market.Money

	side        [2]sideOrders // [0] buy, [1] sell
	orders      int           // open orders in the symbol (capped by MaxOpenOrders)
	orderMargin market.Money  // this symbol's share of Account.orderMargin

	// liq and bk are the trigger tick and bankruptcy tick (liqprice.go);
	// valid while fresh.
	liq, bk book.Ticks
	fresh   bool
}

func sideIdx(s book.Side) int { return int(s) - 1 }

func abs(q book.Lots) book.Lots {
	if q < 0 {
		return -q
	}
	return q
}

// ceilDiv is ⌈a/b⌉ for b > 0.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}

// floorDiv is ⌊a/b⌋ for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// upnl is the unrealized PnL at the stored mark.
func (p *position) upnl() market.Money { return p.sym.PnL(p.qty, p.cost, p.mark) }

// notional is the position's notional at the stored mark.
func (p *position) notional() market.Money { return p.sym.Notional(p.mark, p.qty) }

// initialMargin is ⌈notional / leverage⌉ at the stored mark.
func (p *position) initialMargin() market.Money {
	return market.Money(ceilDiv(int64(p.notional()), p.lev))
}

// maintenance is MM(notional) at the stored mark.
func (p *position) maintenance() market.Money { return p.sym.MaintenanceMargin(p.notional()) }

// closeCap is how much of side s's orders would close the position.
func (p *position) closeCap(s book.Side) book.Lots {
	if s == book.Sell && p.qty > 0 {
		return p.qty
	}
	if s == book.Buy && p.qty < 0 {
		return -p.qty
	}
	return 0
}

// closing is the side that closes the position (a sell for a long).
func (p *position) closing() book.Side {
	if p.qty > 0 {
		return book.Sell
	}
	return book.Buy
}

// sideReq is the margin side s's open orders need: initial margin plus taker
// fee on their opening part, the part beyond what closes the position.
// In cross its notional is the side's pro rata, rounded up; an isolated
// opening part's margin leaves the cash as it fills (trade), so there it
// is bounded above instead: the side's notional less c lots at minLot, the
// least a lot of the side's orders is worth (the book fills a long's
// lowest sells first, so the lots that open are the dearest; pro rata, a
// sweep of closes at 3001 and an open at 5625 moved 350 more than the 875
// reserved: TestIsolatedClosesFillIntoOpen). minLot 0 (not known) reserves
// the whole side.
func (p *position) sideReq(s book.Side, minLot market.Money) market.Money {
	so := &p.side[sideIdx(s)]
	c := p.closeCap(s)
	if so.qty <= c {
		return 0
	}
	n := int64(so.notional)
	if c > 0 {
		pro := market.MustMulDiv(n, int64(so.qty-c), int64(so.qty), true)
		if p.mode == Isolated {
			n = max(n-int64(c)*int64(minLot), pro)
		} else {
			n = pro
		}
	}
	fee := market.MustMulDiv(n, int64(p.sym.TakerFee), market.RateScale, true)
	// The open loss in full, not pro rata: the orders that close may be
	// the ones that lose least.
	return market.Money(ceilDiv(n, p.lev)+fee) + so.loss
}

// maxLoss bounds what q lots can lose against any mark (openLoss): their
// value at the price range's ends, so a decoded loss beyond it is damage
// and the side sums stay within int64 like the notionals.
func maxLoss(s *market.Symbol, q book.Lots) market.Money {
	return max(s.Notional(1, q), s.Notional(s.MaxPrice, q))
}

// openLoss is what q lots opened on side at price lose against mark (0
// when they gain): a cross order reserves it (sideReq), as Binance
// reserves an order's open loss, so the account's cash carries it when
// the order fills. An isolated position's order is held to
// opensUnderMaintenance instead (its margin alone backs it): 0.
//
// An inverse loss is the exact one, q × K × (1/low − 1/high), rounded up:
// at least lossAt (the difference of two values rounded down) and at most
// a unit more. Rounded so, a partial fill's pro-rata share of it, rounded
// up (removeOrderQty), is never less than the fresh openLoss of the rest,
// ⌈L × left/q⌉ ≤ ⌈⌈L⌉ × left/q⌉; lossAt's differences are not (6 lots
// sold at 35 837 on XBTUSD, mark 35 838, lose 0 and 4 of them 1), and
// neither is a lossAt that loses nothing after all, kept 0 for ever.
func (p *position) openLoss(side book.Side, price book.Ticks, q book.Lots, mark book.Ticks) market.Money {
	if p.mode != Cross || !against(side, price, mark) {
		return 0
	}
	loss := p.lossAt(side, price, q, mark)
	if p.sym.Kind == market.Inverse && fracAbove(uint64(q), uint64(p.sym.InverseK), uint64(min(price, mark)), uint64(max(price, mark))) {
		loss++
	}
	return loss
}

// fracAbove says whether q×k/lo has a larger fractional part than q×k/hi
// (both quotients fit in 64 bits, as the values lossAt took of them do):
// then the exact difference is above the difference of the floors.
func fracAbove(q, k, lo, hi uint64) bool {
	nh, nl := bits.Mul64(q, k)
	_, rlo := bits.Div64(nh, nl, lo)
	_, rhi := bits.Div64(nh, nl, hi)
	ah, al := bits.Mul64(rlo, hi) // rlo/lo > rhi/hi ⇔ rlo×hi > rhi×lo
	bh, bl := bits.Mul64(rhi, lo)
	return ah > bh || ah == bh && al > bl
}

// lossAt is what q lots opened on side at price lose against mark (0 when
// they gain).
func (p *position) lossAt(side book.Side, price book.Ticks, q book.Lots, mark book.Ticks) market.Money {
	if q <= 0 || !against(side, price, mark) {
		return 0
	}
	s, signed := p.sym, q
	if side == book.Sell {
		signed = -q
	}
	return max(0, -s.PnL(signed, s.Value(price, signed), mark))
}

// against says whether an order on side at price is priced worse than
// ref for it: a buy above ref, a sell below it.
func against(side book.Side, price, ref book.Ticks) bool {
	return side == book.Buy && price > ref || side == book.Sell && price < ref
}

// opensUnderMaintenance says whether open lots opened on side at price
// would be liquidatable the moment they fill, on their own: their loss
// against mark leaves their initial margin, less their taker fee, at or
// under the maintenance margin they add to the worst position of w lots
// (|position| if every order of that side fills; liquidatable is equity ≤
// maintenance). Each order held to it, the initial margins Available
// reserves cover their losses, however many fill.
func (p *position) opensUnderMaintenance(side book.Side, price book.Ticks, open, w book.Lots, mark book.Ticks) bool {
	loss := p.lossAt(side, price, open, mark)
	if loss == 0 {
		return false
	}
	s := p.sym
	n := int64(s.Notional(price, open))
	fee := market.MustMulDiv(n, int64(s.TakerFee), market.RateScale, true)
	mm := s.MaintenanceMargin(s.Notional(mark, w)) - s.MaintenanceMargin(s.Notional(mark, w-open))
	return market.Money(ceilDiv(n, p.lev)-fee)-loss <= mm
}

// requiredOrderMargin is the larger of the two sides' requirements, given
// each side's minLot (sideReq).
func (p *position) requiredOrderMargin(minLot [2]market.Money) market.Money {
	return max(p.sideReq(book.Buy, minLot[0]), p.sideReq(book.Sell, minLot[1]))
}

// worstQty is |position| if every open order of side s (plus extra lots)
// filled.
func (p *position) worstQty(s book.Side, extra book.Lots) book.Lots {
	so := &p.side[sideIdx(s)]
	return abs(p.qty + book.Lots(s.Sign())*(so.qty+extra))
}

// tradeResult is what one trade did to the money.
type tradeResult struct {
	realized  market.Money
	fee       market.Money
	deficit   market.Money
	openValue market.Money // a flip's opening part's value (trade)
}

// trade moves the position by delta lots (signed) at price and charges
// feeRate on the traded notional: the closing part realizes PnL against a
// pro-rata share of the cost basis, the opening part adds its value to the
// cost. Cross: realized PnL and fee go to cash. Isolated: realized PnL goes
// to the margin, the closed share of the margin returns to cash, the
// opening part moves ⌈value/leverage⌉ from cash into the margin, the fee is
// paid from cash; a full close with a negative margin reports the deficit.
// An order's opening part moves at most its initial margin at the order's
// margin price mp (0: none), what it reserved: a sell that takes a bid
// above the mark (an inverse buy an ask below it) fills at a larger
// notional than it reserved, and the cash it left put a resting close past
// its bound, checked at the reservation (TestIsolatedOpenTakesAboveItsMarginPrice).
// The position's gain against the mark covers what its margin lacks.
func (a *Account) trade(p *position, delta book.Lots, price book.Ticks, feeRate market.Rate, mp book.Ticks) tradeResult {
	sym := p.sym
	var r tradeResult
	r.fee = TradeFee(sym, price, delta, feeRate)
	a.cash -= r.fee

	closeQty := book.Lots(0)
	if p.qty != 0 && (p.qty > 0) != (delta > 0) {
		closeQty = min(abs(delta), abs(p.qty))
	}
	if closeQty > 0 {
		before := abs(p.qty)
		dc := closeQty
		if delta < 0 {
			dc = -dc
		}
		removed := p.cost
		if closeQty < before {
			removed = market.Money(market.MustMulDiv(int64(p.cost), int64(closeQty), int64(before), false))
		}
		r.realized = -sym.Value(price, dc) - removed
		if closeQty < abs(delta) {
			// A flip: the opening part's value is the trade's less the
			// closing part's (below), so the two add up to exactly what the
			// counterparty booked (an inverse value rounds per amount).
			r.openValue = sym.Value(price, delta) - sym.Value(price, dc)
		}
		p.qty += dc
		p.cost -= removed
		p.realized += r.realized
		if p.mode == Isolated {
			a.settleIsolatedClose(p, before, &r)
		} else {
			a.cash += r.realized
		}
	}
	if open := abs(delta) - closeQty; open > 0 {
		do := open
		if delta < 0 {
			do = -do
		}
		v := sym.Value(price, do)
		if closeQty > 0 {
			v = r.openValue
		}
		p.qty += do
		p.cost += v
		if p.mode == Isolated {
			n := sym.Notional(price, do)
			if mp > 0 {
				n = min(n, sym.Notional(mp, do))
			}
			im := market.Money(ceilDiv(int64(n), p.lev))
			a.cash -= im
			p.margin += im
		}
	}
	return r
}

// TradeFee is the fee at rate of a trade of q lots (either sign) at price,
// as a fill books it, rounded toward +∞: charges round up, rebates round
// down. Exported for a fill no account books (one held for a failed
// account).
func TradeFee(sym *market.Symbol, price book.Ticks, q book.Lots, rate market.Rate) market.Money {
	return market.Money(market.MustMulDiv(int64(sym.Notional(price, q)), int64(rate), market.RateScale, rate > 0))
}

// settleIsolatedClose books an isolated close: realized PnL into the
// margin, then the closed share of the margin back to cash.
func (a *Account) settleIsolatedClose(p *position, before book.Lots, r *tradeResult) {
	p.margin += r.realized
	if p.qty == 0 {
		if p.margin < 0 {
			r.deficit = -p.margin
		} else {
			a.cash += p.margin
		}
		p.margin = 0
		return
	}
	if p.margin > 0 {
		keep := market.Money(market.MustMulDiv(int64(p.margin), int64(abs(p.qty)), int64(before), true))
		a.cash += p.margin - keep
		p.margin = keep
	}
}
