package risk

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Fill is one execution of an accepted order of this account.
type Fill struct {
	OrderID book.OrderID
	Side    book.Side
	Price   book.Ticks
	Qty     book.Lots
	Maker   bool
	// FeeRate charged on the fill's notional (normally sym.FeeRate(Maker));
	// negative for a rebate. Must be within ±10 %.
	FeeRate market.Rate
}

// FillResult is what a fill (or an ADL close) did.
type FillResult struct {
	// Fee charged (negative: rebate paid); book it to the fees ledger.
	Fee market.Money
	// Realized PnL of the closed part (fees excluded).
	Realized market.Money
	// Deficit is a loss beyond what backed the position, on a full close of
	// an isolated position (margin < 0) or of the account's last position
	// (cash < 0): the caller draws it from the insurance fund; the account is
	// left at zero, never negative.
	Deficit market.Money
	// Position after the fill (signed lots).
	Position book.Lots
	// Released is how much the symbol's order margin shrank (may be < 0 when
	// a position flip makes remaining orders opening).
	Released market.Money
	// OrderDone: the order has no remaining quantity.
	OrderDone bool
	// ReduceOnlyExcess: reduce-only orders now exceed the position; cancel
	// ExcessReduceOnly(sym).
	ReduceOnlyExcess bool
	// Liquidate: at the stored marks (never the fill price) the position, or
	// the cross account, is now at or below maintenance margin.
	Liquidate bool
}

// maxFeeRate bounds Fill.FeeRate.
const maxFeeRate market.Rate = market.RateScale / 10

// ApplyFill settles one fill of an open order: position, cost basis,
// realized PnL, fee, and the order's reservation for the filled part. Bad
// input changes nothing: UnknownOrder (not an open order of this account),
// BadRequest (wrong symbol or side, fee rate out of range), InvalidQty (qty ≤
// 0 or above the order's remaining qty), InvalidPrice (≤ 0 or > MaxPrice).
// A reduce-only fill that crosses zero is applied as it happened (the book
// matched it); ReduceOnlyExcess tells the caller to trim the rest.
func (a *Account) ApplyFill(sym *market.Symbol, f Fill) (FillResult, Code) {
	j, code := a.fillOrder(sym, f)
	if code != OK {
		return FillResult{}, code
	}
	mp := a.orders.At(j).price // removeOrderQty may forget o
	i, left := a.removeOrderQty(j, f.Qty)
	res := a.applyTrade(i, book.Lots(f.Side.Sign())*f.Qty, f.Price, f.FeeRate, mp)
	res.OrderDone = left == 0
	return res, OK
}

// fillOrder finds f's open order and checks f against it (ApplyFill's
// codes).
func (a *Account) fillOrder(sym *market.Symbol, f Fill) (int, Code) {
	j := a.orders.Find(f.OrderID)
	if j < 0 {
		return 0, UnknownOrder
	}
	o := a.orders.At(j)
	switch {
	case a.pos[o.slot].sym != sym || f.Side != o.side || f.FeeRate < -maxFeeRate || f.FeeRate > maxFeeRate:
		return 0, BadRequest
	case f.Qty <= 0 || f.Qty > o.qty:
		return 0, InvalidQty
	case f.Price <= 0 || f.Price > sym.MaxPrice:
		return 0, InvalidPrice
	}
	return j, OK
}

// TakeFill books the first taken lots of fill f of an open order in sym
// while this account's liquidation holds sym's position: the book matched
// the order before the takeover's cancel reached it, and those lots close
// the liquidation's leg (Liquidation.ApplyOrderFill), not the account's
// position. They leave the order and its reservation; TakeFill returns
// their value (f's whole value less the rest's, so the parts add up to
// what the counterparty booked) and their fee at f.FeeRate, which the
// liquidation pays. ApplyFill books the rest, f.Qty − taken lots, if any.
// ApplyFill's codes; BadRequest when taken is not within [1, f.Qty] or
// the account is not in liquidation.
func (a *Account) TakeFill(sym *market.Symbol, f Fill, taken book.Lots) (value, fee market.Money, code Code) {
	j, code := a.fillOrder(sym, f)
	switch {
	case code != OK:
		return 0, 0, code
	case taken <= 0 || taken > f.Qty || !a.inLiq:
		return 0, 0, BadRequest
	}
	value = sym.Value(f.Price, f.Qty) - sym.Value(f.Price, f.Qty-taken)
	fee = TradeFee(sym, f.Price, taken, f.FeeRate)
	slot, _ := a.removeOrderQty(j, taken)
	a.updateOrderMargin(slot)
	return value, fee, OK
}

// ApplyADLClose closes qty lots (> 0) of this account's position in sym at
// price (the bankrupt position's bankruptcy price), without fee: the
// counterparty side of auto-deleveraging. InvalidQty when qty exceeds the
// position, NoPosition without one, InvalidPrice when price is ≤ 0 or above
// 2×MaxPrice.
func (a *Account) ApplyADLClose(sym *market.Symbol, qty book.Lots, price book.Ticks) (FillResult, Code) {
	i := a.find(sym)
	switch {
	case i < 0 || a.pos[i].qty == 0:
		return FillResult{}, NoPosition
	case qty <= 0 || qty > abs(a.pos[i].qty):
		return FillResult{}, InvalidQty
	case price <= 0 || price > 2*sym.MaxPrice:
		return FillResult{}, InvalidPrice
	}
	d := qty
	if a.pos[i].qty > 0 {
		d = -qty
	}
	return a.applyTrade(i, d, price, 0, 0), OK
}

// CloseForADL is a ranked counterparty's side of a forced close: of qty
// lots asked of its positions on side (book.Buy: long) it closes what it
// still holds (the ranking may be stale) at price with ApplyADLClose and
// returns how many; 0 and OK when it holds nothing on that side, or when
// the close would leave what backs the position below zero (the ranking's
// view of its collateral may be stale): ADL must not make a counterparty
// bankrupt, a deficit nobody reserved.
//
// held is how many lots of the position the account's closing orders on
// their way to the book count on (sent, not yet answered): the book
// matches them before any cancel sent now, so they fill as closes only if
// the position still holds them. The close leaves at least held lots
// (none when held ≥ the position): taken, the orders would open a
// position no pre-trade check judged (TestADLCloseBehindLimitClose).
func (a *Account) CloseForADL(sym *market.Symbol, side book.Side, qty book.Lots, price book.Ticks, held book.Lots) (book.Lots, FillResult, Code) {
	i := a.find(sym)
	if i < 0 || qty <= 0 || a.pos[i].qty*book.Lots(side.Sign()) <= 0 {
		return 0, FillResult{}, OK
	}
	n := min(qty, abs(a.pos[i].qty)-max(held, 0))
	if n <= 0 {
		return 0, FillResult{}, OK
	}
	if price <= 0 || price > 2*sym.MaxPrice {
		return 0, FillResult{}, InvalidPrice
	}
	if !a.affordsClose(i, n, price) {
		return 0, FillResult{}, OK
	}
	res, code := a.ApplyADLClose(sym, n, price)
	if code != OK {
		return 0, res, code
	}
	return n, res, OK
}

// affordsClose reports whether closing n lots of slot i at price leaves
// what backs it — the isolated margin, or the cross equity at the stored
// marks — at zero or above, or costs it nothing against the mark.
func (a *Account) affordsClose(i int, n book.Lots, price book.Ticks) bool {
	p := &a.pos[i]
	mark := p.mark
	if mark == 0 {
		mark = price
	}
	d := p.sym.ValueDiff(price, mark, n) // the close at price instead of at the mark
	if p.qty < 0 {
		d = -d
	}
	if d >= 0 {
		return true
	}
	if p.mode == Isolated {
		dc := n
		if p.qty > 0 {
			dc = -n
		}
		removed := p.cost
		if n < abs(p.qty) {
			removed = market.Money(market.MustMulDiv(int64(p.cost), int64(n), int64(abs(p.qty)), false))
		}
		return p.margin-p.sym.Value(price, dc)-removed >= 0
	}
	eq, _ := a.crossEquityMM()
	return eq+d >= 0
}

// applyTrade trades slot i and brings every derived number up to date;
// mp is the order's margin price (0: no order), which bounds what an
// isolated opening part moves from the cash (trade).
func (a *Account) applyTrade(i int, delta book.Lots, price book.Ticks, feeRate market.Rate, mp book.Ticks) FillResult {
	p := &a.pos[i]
	if p.mark == 0 {
		p.mark = price // first sight of the symbol: the fill price is the best mark known
	}
	tr := a.trade(p, delta, price, feeRate, mp)
	a.afterChange(i)
	if a.nOpen == 0 && a.cash < 0 {
		// The account is flat and nothing backs the cross wallet any more:
		// the loss beyond it (a close far from the mark) is the fund's, like
		// an isolated deficit.
		tr.deficit -= a.cash
		a.cash = 0
	}
	return FillResult{
		Fee:              tr.fee,
		Realized:         tr.realized,
		Deficit:          tr.deficit,
		Position:         p.qty,
		Released:         -a.updateOrderMargin(i),
		ReduceOnlyExcess: p.roExcess(),
		Liquidate:        a.liquidatable(i),
	}
}
