package risk

import (
	"cmp"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// OrderType is limit or market.
type OrderType uint8

const (
	Limit  OrderType = 1
	Market OrderType = 2
)

// Order is what PreTrade checks: integer price and quantity (the gateway
// converted and tick/lot-checked the decimals with market.Symbol).
type Order struct {
	ID    book.OrderID
	Side  book.Side
	Type  OrderType
	Price book.Ticks // limit price; ignored for market orders
	Qty   book.Lots
	// ReduceOnly orders may only shrink the position.
	ReduceOnly bool
	// NeverRests marks an order that cannot rest in the book (IOC, FOK): the
	// open-order cap does not refuse it (nor does it a market order), so a
	// bot at the cap can still cut its position.
	NeverRests bool
}

// openOrder is an accepted order's reservation record.
type openOrder struct {
	id         book.OrderID
	slot       int32
	side       book.Side
	reduceOnly bool
	price      book.Ticks // the margin price (see PreTrade)
	qty        book.Lots  // remaining
	// loss is the open loss of the remaining qty at the limit price against
	// the mark it was checked at (position.openLoss; 0 but in cross)
	loss market.Money
	// canceling: a reduce-only order whose cancel is on its way to the book
	// (Canceling); it holds its margin still, but no reduce-only room.
	canceling bool
}

// PreTrade runs the pre-trade checks for o in sym with the symbol's current
// mark and, when it passes, records the order and its reservation. reserved
// is how much the symbol's order margin grew (0 or more; an order that only
// closes reserves nothing). Checks, in order (first failure wins):
//
//  1. account in liquidation → AccountInLiquidation; sym nil → UnknownSymbol;
//     bad side/type or a duplicate id → BadRequest;
//  2. qty ≤ 0 or > MaxQty → InvalidQty; mark ≤ 0 → NoMarkPrice;
//  3. limit price ≤ 0, > MaxPrice or outside the price band around the mark
//     → InvalidPrice;
//  4. notional (at the limit price; at the mark for market orders) below
//     MinNotional → MinNotional (reduce-only orders are exempt);
//  5. a limit order against the position priced past its bankruptcy price
//     as CloseBankruptcyPrice moves it by the close's taker fee (a sell
//     below a long's, a buy above a short's) → BeyondBankruptcy: a fill
//     there loses more than the position's margin, which nobody pays but
//     the insurance fund (a market order's bound stops at that price
//     instead: the actors' closeBound);
//  6. reduce-only that would not shrink the position → ReduceOnlyRejected:
//     its side must oppose the position and its qty plus the side's open
//     reduce-only qty must be ≤ |position| (rejected, never trimmed);
//  7. |position| if every open order of that side filled > MaxQty, or its
//     notional at the mark > the last tier → InvalidQty; the symbol's
//     leverage above that notional's tier → LeverageTooHigh; (whether or
//     not the position grows: a flip) an isolated position's limit order
//     whose opening part, its lots beyond the side's resting ones' closing
//     share, is liquidatable the moment it fills at its price
//     (opensUnderMaintenance: a buy far above the mark, a sell far below)
//     → WouldLiquidate: its liquidation would sell at once into whatever
//     bid waits, the fund paying for the loss beyond its margin (a market
//     order's bound stops short of that price instead: OpenBound);
//  8. growth of the order margin > Available → InsufficientMargin
//     (OpenLossUncovered when its open loss is what does not fit: in cross a
//     limit order priced against the mark reserves what its fill there
//     loses, position.openLoss, in full while the side opens anything).
//
// Step 5 holds a close to its bound twice: at the cash, and, while
// isolated positions' opening orders rest, at the cash less what they
// reserve (their initial margin and fee leave the cash as they fill, and
// they may fill first) → CloseBeyondIsolatedOpens. PreTradeChecked adds
// the converse for an isolated opening order (IsolatedOpenPastClose).
//
// The margin price is where the order's notional is largest among the
// prices it may likely fill at (marginPrice): for a linear contract the
// limit price for buys and max(limit, mark) for sells (a sell may fill
// above its limit), the band's top for market buys and the mark for market
// sells. Order margin per side is (IM + taker fee) on the
// side's opening part; the symbol reserves the larger side.
func (a *Account) PreTrade(sym *market.Symbol, o Order, mark book.Ticks) (Code, market.Money) {
	return a.preTrade(sym, o, mark, nil, a.isoOrderMargin)
}

// PreTradeChecked is PreTrade that, when o raises what the isolated
// positions' opening orders reserve (isoOrderMargin) while the account
// holds a position with closing orders, then asks keep, with that
// reservation out of the cash, whether the account may stay so: the
// caller's check of what risk does not hold, its closing orders' limit
// prices against the bounds the money's leaving moves (a cross position's
// bankruptcy price, any close's fee), as AddMarginChecked asks it. The
// order's margin leaves the cash only when it fills: a close it then puts
// past its bound could be filled by an order already at the book before
// its cancel gets there. false refuses o: IsolatedOpenPastClose.
func (a *Account) PreTradeChecked(sym *market.Symbol, o Order, mark book.Ticks, keep func() bool) (Code, market.Money) {
	return a.preTrade(sym, o, mark, keep, a.isoOrderMargin)
}

// preTrade is PreTradeChecked; keep is asked only when the isolated
// reservation ends above isoBefore (an amend's is before it dropped the
// order).
func (a *Account) preTrade(sym *market.Symbol, o Order, mark book.Ticks, keep func() bool, isoBefore market.Money) (Code, market.Money) {
	switch {
	case a.inLiq:
		return AccountInLiquidation, 0
	case sym == nil:
		return UnknownSymbol, 0
	case o.Side != book.Buy && o.Side != book.Sell, o.Type != Limit && o.Type != Market:
		return BadRequest, 0
	case o.Qty <= 0 || o.Qty > sym.MaxQty:
		return InvalidQty, 0
	case mark <= 0 || mark > sym.MaxPrice:
		return NoMarkPrice, 0
	}
	if a.orders.Find(o.ID) >= 0 {
		return BadRequest, 0
	}
	lo, hi := sym.Band(mark)
	if o.Type == Limit && (o.Price < lo || o.Price > hi) {
		return InvalidPrice, 0
	}
	price, ref := marginPrice(sym, o, mark, lo, hi), o.Price
	if o.Type == Market {
		ref = mark
	}
	if !o.ReduceOnly && sym.Notional(ref, o.Qty) < sym.MinNotional {
		return MinNotional, 0
	}
	i := a.slot(sym)
	if i < 0 {
		return BadRequest, 0
	}
	p := &a.pos[i]
	if o.Type == Limit && p.qty != 0 && (p.qty > 0) != (o.Side == book.Buy) {
		if a.pastCloseBound(i, o.Price) {
			return BeyondBankruptcy, 0
		}
		if a.isoOrderMargin > 0 && !a.AsIsolatedOpensFill(func() bool { return !a.pastCloseBound(i, o.Price) }) {
			return CloseBeyondIsolatedOpens, 0
		}
	}
	if max := sym.MaxOpenOrders; max > 0 && p.orders >= max && o.Type == Limit && !o.NeverRests {
		return TooManyOrders, 0
	}
	so := &p.side[sideIdx(o.Side)]
	if o.ReduceOnly && so.roQty+o.Qty > p.closeCap(o.Side) {
		return ReduceOnlyRejected, 0
	}
	w := p.worstQty(o.Side, o.Qty)
	if w > abs(p.qty) {
		if w > sym.MaxQty {
			return InvalidQty, 0
		}
		n := sym.Notional(mark, w)
		if n > sym.PositionLimit() {
			return InvalidQty, 0
		}
		if p.lev > sym.TierFor(n).MaxLeverage {
			return LeverageTooHigh, 0
		}
	}
	// Not only when the position grows: a flip to the same size (short 1,
	// buy 2) opens lots too, and its long far above the mark was bankrupt
	// as it filled.
	var loss market.Money
	if o.Type == Limit {
		if p.mode != Cross {
			c := p.closeCap(o.Side)
			open := max(so.qty+o.Qty-c, 0) - max(so.qty-c, 0) // this order's lots beyond what closes
			if p.opensUnderMaintenance(o.Side, o.Price, open, w, mark) {
				return WouldLiquidate, 0
			}
		}
		loss = p.openLoss(o.Side, o.Price, o.Qty, mark)
	}
	add := sym.Notional(price, o.Qty)
	so.qty += o.Qty
	so.notional += add
	so.loss += loss
	om := a.requiredOrderMargin(i, &o, price)
	delta := om - p.orderMargin
	if delta > 0 && delta > a.Available() {
		code := InsufficientMargin
		if so.loss -= loss; loss > 0 {
			// Had it reserved no open loss, would it fit? Then the loss is
			// what the balance cannot carry.
			if without := a.requiredOrderMargin(i, &o, price) - p.orderMargin; without <= 0 || without <= a.Available() {
				code = OpenLossUncovered
			}
		}
		so.qty -= o.Qty
		so.notional -= add
		return code, 0
	}
	if p.mode == Isolated && !a.isoOpensKeep(a.isoOrderMargin+delta, isoBefore, keep) {
		so.qty -= o.Qty // an isolated order reserves no open loss
		so.notional -= add
		return IsolatedOpenPastClose, 0
	}
	if o.ReduceOnly {
		so.roQty += o.Qty
	}
	a.setOrderMargin(i, om)
	a.orders.Add(o.ID, openOrder{id: o.ID, slot: int32(i), side: o.Side, reduceOnly: o.ReduceOnly, price: price, qty: o.Qty, loss: loss})
	p.orders++
	if p.mark == 0 {
		p.mark = mark // the symbol's first mark here: its fills are valued at it, not at their own price
	}
	return OK, max(delta, 0)
}

// isoOpensKeep says whether iso, what the isolated positions' opening
// orders are to reserve (before: what they did), leaves the closes as keep
// wants them: keep is asked, with iso out of the cash, only when iso grows
// while a position holds closes.
func (a *Account) isoOpensKeep(iso, before market.Money, keep func() bool) bool {
	return iso <= before || keep == nil || a.nOpen == 0 || !a.HoldsCloses() || a.withCashOut(iso, keep)
}

// marginPrice is the price an order's margin is reserved at: where its
// notional is largest among the prices it may likely fill at. Linear
// (notional grows with the price): a buy's limit (the band's top for a
// market buy), a sell's limit or the mark if higher (a sell may fill above
// its limit). Inverse (it shrinks as the price grows): a buy's limit or the
// mark if lower (the mark for a market buy), a sell's limit (the band's
// bottom for a market sell).
func marginPrice(sym *market.Symbol, o Order, mark, lo, hi book.Ticks) book.Ticks {
	buy := o.Side == book.Buy
	if sym.Kind == market.Inverse {
		switch {
		case o.Type == Market && buy:
			return mark
		case o.Type == Market:
			return lo
		case buy:
			return min(o.Price, mark)
		}
		return o.Price
	}
	switch {
	case o.Type == Market && buy:
		return hi
	case o.Type == Market:
		return mark
	case buy:
		return o.Price
	}
	return max(o.Price, mark)
}

// removeOrderQty takes q lots of open order j (its index in a.orders) off
// its side's totals and forgets the order when nothing remains; it returns
// the order's slot and remaining qty.
func (a *Account) removeOrderQty(j int, q book.Lots) (slot int, left book.Lots) {
	o := a.orders.At(j)
	p := &a.pos[o.slot]
	so := &p.side[sideIdx(o.side)]
	so.qty -= q
	// The order's notional before less after, not q's: an inverse value
	// rounds, so the side's total stays Σ Notional(price, remaining).
	so.notional -= p.sym.Notional(o.price, o.qty) - p.sym.Notional(o.price, o.qty-q)
	if o.loss != 0 { // the rest's share, rounded up
		left := market.Money(market.MustMulDiv(int64(o.loss), int64(o.qty-q), int64(o.qty), true))
		so.loss -= o.loss - left
		o.loss = left
	}
	if o.reduceOnly && !o.canceling {
		so.roQty -= q
	}
	o.qty -= q
	slot, left = int(o.slot), o.qty
	if left == 0 {
		a.orders.RemoveAt(j)
		p.orders--
	}
	return slot, left
}

// updateOrderMargin recomputes slot i's reservation after its orders or
// position changed; it returns the change.
func (a *Account) updateOrderMargin(i int) market.Money {
	return a.setOrderMargin(i, a.requiredOrderMargin(i, nil, 0))
}

// requiredOrderMargin is slot i's order margin (position.requiredOrderMargin)
// with the open orders recorded and, when o is not nil, o at margin price mp
// (PreTrade counts it before recording it). Only an isolated side that both
// closes and opens needs its least lot's worth (sideReq): a walk over the
// account's orders, none otherwise.
func (a *Account) requiredOrderMargin(i int, o *Order, mp book.Ticks) market.Money {
	p := &a.pos[i]
	var minLot [2]market.Money
	if p.mode == Isolated {
		for k, s := range [2]book.Side{book.Buy, book.Sell} {
			if c := p.closeCap(s); c == 0 || p.side[k].qty <= c {
				continue
			}
			if o != nil && o.Side == s {
				minLot[k] = p.sym.Notional(mp, 1)
			}
			for _, r := range a.orders.Values() {
				if int(r.slot) == i && r.side == s {
					if n := p.sym.Notional(r.price, 1); minLot[k] == 0 || n < minLot[k] {
						minLot[k] = n
					}
				}
			}
		}
	}
	return p.requiredOrderMargin(minLot)
}

// setOrderMargin sets slot i's reservation to om, the account's sums with
// it, and returns the change.
func (a *Account) setOrderMargin(i int, om market.Money) market.Money {
	p := &a.pos[i]
	d := om - p.orderMargin
	p.orderMargin = om
	a.orderMargin += d
	if p.mode == Isolated {
		a.isoOrderMargin += d
	}
	return d
}

// OnOrderDone forgets an order that will not fill any more (canceled,
// expired, rejected by the book, or the unfilled rest of an IOC) and releases
// its reservation; released is how much the order margin shrank. ok is false
// for an unknown (or already finished) order.
func (a *Account) OnOrderDone(id book.OrderID) (released market.Money, ok bool) {
	j := a.orders.Find(id)
	if j < 0 {
		return 0, false
	}
	slot, _ := a.removeOrderQty(j, a.orders.At(j).qty)
	return -a.updateOrderMargin(slot), true
}

// OnCancel is OnOrderDone for a canceled order.
func (a *Account) OnCancel(id book.OrderID) (released market.Money, ok bool) {
	return a.OnOrderDone(id)
}

// OpenOrders returns the ids of the open orders, ascending.
func (a *Account) OpenOrders() []book.OrderID {
	ids := make([]book.OrderID, 0, a.orders.Len())
	for _, o := range a.orders.Values() {
		ids = append(ids, o.id)
	}
	slices.Sort(ids)
	return ids
}

// ExcessReduceOnly returns the reduce-only orders of sym to cancel, newest
// (highest id) first, so the remaining reduce-only quantity no longer exceeds
// what would close the position (ApplyFill reports when that is needed).
func (a *Account) ExcessReduceOnly(sym *market.Symbol) []book.OrderID {
	i := a.find(sym)
	if i < 0 {
		return nil
	}
	p := &a.pos[i]
	var out []book.OrderID
	for _, s := range [2]book.Side{book.Buy, book.Sell} {
		out = a.newestOf(i, s, p.side[sideIdx(s)].roQty-p.closeCap(s), true, nil, out)
	}
	return out
}

// ExcessOverMax returns the open orders to cancel, newest first, so that
// sym's position stays within MaxQty if every order of a side filled:
// PreTrade keeps that true for each new order, but a position moved from
// outside (an ADL close) can leave closing orders that would now open past
// it (short 10 with two buys of 10, the short closed by ADL: long 20).
func (a *Account) ExcessOverMax(sym *market.Symbol) []book.OrderID {
	i := a.find(sym)
	if i < 0 {
		return nil
	}
	p := &a.pos[i]
	var out []book.OrderID
	for _, s := range [2]book.Side{book.Buy, book.Sell} {
		out = a.newestOf(i, s, p.worstQty(s, 0)-sym.MaxQty, false, nil, out)
	}
	return out
}

// OpenedByClose returns the open orders to cancel, newest first, after a
// close from outside (an ADL close) shrank sym's position from before
// lots: the closing side's lots beyond what the position still closes
// were accepted as closes, never checked as opens (margin, open loss,
// liquidatable on their own fill), so the side keeps no more opening lots
// than it had. Filled unchecked, an isolated one took margin the cash did
// not have (TestADLCloseTurnsCloseIntoOpen). Orders for which onWay is
// true (nil: none) are passed over: a cancel reaches the book after them,
// so the close left their lots to them (CloseForADL's held) and the
// resting ones are what must go.
func (a *Account) OpenedByClose(sym *market.Symbol, before book.Lots, onWay func(book.OrderID) bool) []book.OrderID {
	i := a.find(sym)
	if i < 0 || before == 0 {
		return nil
	}
	p := &a.pos[i]
	s := book.Sell
	if before < 0 {
		s = book.Buy
	}
	q := p.side[sideIdx(s)].qty
	return a.newestOf(i, s, max(q-p.closeCap(s), 0)-max(q-abs(before), 0), false, onWay, nil)
}

// newestOf appends to out slot i's open orders on side s (only the
// reduce-only ones if reduceOnly, none that skip says to pass over),
// newest (highest id) first, until their quantity covers excess; nothing
// when excess ≤ 0.
func (a *Account) newestOf(i int, s book.Side, excess book.Lots, reduceOnly bool, skip func(book.OrderID) bool, out []book.OrderID) []book.OrderID {
	if excess <= 0 {
		return out
	}
	var os []openOrder
	for _, o := range a.orders.Values() {
		if int(o.slot) == i && o.side == s && (o.reduceOnly || !reduceOnly) && (skip == nil || !skip(o.id)) {
			os = append(os, o)
		}
	}
	slices.SortFunc(os, func(x, y openOrder) int { return cmp.Compare(y.id, x.id) })
	for _, o := range os {
		if excess <= 0 {
			break
		}
		out = append(out, o.id)
		excess -= o.qty
	}
	return out
}

// roExcess reports whether slot i's reduce-only orders exceed the position.
func (p *position) roExcess() bool {
	return p.side[0].roQty > p.closeCap(book.Buy) || p.side[1].roQty > p.closeCap(book.Sell)
}
