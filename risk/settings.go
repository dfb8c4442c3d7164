package risk

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// SetLeverage sets sym's leverage. LeverageTooHigh when lev exceeds the
// symbol's max or the max of the tier of the current worst-case notional
// (position plus every open order of one side, at the mark); BadRequest when
// lev < 1; InsufficientMargin when the new reservations or initial margin
// would not fit (cross: Available < 0 afterwards; isolated with a position:
// its margin below the new initial margin — add margin first).
func (a *Account) SetLeverage(sym *market.Symbol, lev int64) Code {
	return a.SetLeverageChecked(sym, lev, 0, nil, nil)
}

// SetLeverageChecked is SetLeverage that asks keep as PreTradeChecked does
// when the new leverage raises what an isolated position's opening orders
// reserve: their margin leaves the cash as they fill, so a lower leverage
// moves the bound a resting close is held to. false puts the leverage back
// and returns IsolatedOpenPastClose.
//
// A higher leverage for an isolated symbol also holds its resting orders
// (resting: side, limit price, open quantity, which risk does not keep) to
// PreTrade's WouldLiquidate at mark: each one's lots that may open must
// survive their own fill at the new leverage's margin, counting every lot
// beyond the position as possibly its (a buy at the band's top rested at
// leverage 1, raised to 5 and filled, was bankrupt at once and its
// liquidation cost the fund 225: TestLeverageRaiseOpensBankrupt).
func (a *Account) SetLeverageChecked(sym *market.Symbol, lev int64, mark book.Ticks, resting []Order, keep func() bool) Code {
	switch {
	case a.inLiq:
		return AccountInLiquidation
	case sym == nil:
		return UnknownSymbol
	case lev < 1:
		return BadRequest
	case lev > sym.MaxLeverage:
		return LeverageTooHigh
	}
	i := a.slot(sym)
	if i < 0 {
		return BadRequest
	}
	p := &a.pos[i]
	w := max(p.worstQty(book.Buy, 0), p.worstQty(book.Sell, 0))
	m := p.mark // a flat symbol's may be old: the caller's, when it has one
	if mark > 0 {
		m = mark
	}
	if lev > sym.TierFor(sym.Notional(m, w)).MaxLeverage {
		return LeverageTooHigh
	}
	old, iso := p.lev, a.isoOrderMargin
	p.lev = lev
	a.updateOrderMargin(i)
	code := OK
	switch {
	case a.Available() < 0 && lev < old, p.mode == Isolated && p.qty != 0 && p.margin < p.initialMargin():
		code = InsufficientMargin
	case p.mode == Isolated && lev > old && p.opensUnderMaintenanceAny(resting, mark):
		code = WouldLiquidate
	case !a.isoOpensKeep(a.isoOrderMargin, iso, keep):
		code = IsolatedOpenPastClose
	}
	if code != OK {
		p.lev = old
		a.updateOrderMargin(i)
	}
	return code
}

// SetMarginMode sets sym's margin mode; PositionOpen while sym has a
// position or open orders.
func (a *Account) SetMarginMode(sym *market.Symbol, mode MarginMode) Code {
	switch {
	case a.inLiq:
		return AccountInLiquidation
	case sym == nil:
		return UnknownSymbol
	case mode != Cross && mode != Isolated:
		return BadRequest
	}
	i := a.slot(sym)
	if i < 0 {
		return BadRequest
	}
	p := &a.pos[i]
	if p.qty != 0 || p.side[0].qty != 0 || p.side[1].qty != 0 {
		return PositionOpen
	}
	p.mode = mode
	return OK
}

// isolatedSlot returns sym's slot when it holds an isolated position.
func (a *Account) isolatedSlot(sym *market.Symbol) (int, Code) {
	i := a.find(sym)
	switch {
	case a.inLiq:
		return -1, AccountInLiquidation
	case sym == nil:
		return -1, UnknownSymbol
	case i < 0 || a.pos[i].qty == 0 || a.pos[i].mode != Isolated:
		return -1, NoPosition
	}
	return i, OK
}

// AddMargin moves amount (≤ Available) from cash into sym's isolated margin.
func (a *Account) AddMargin(sym *market.Symbol, amount market.Money) Code {
	return a.AddMarginChecked(sym, amount, nil)
}

// AddMarginChecked is AddMargin that then asks keep, as WithdrawChecked
// does: the margin leaves the cash that backs the cross positions (and pays
// every close's fee), so it may raise their bankruptcy prices past a
// closing order. false puts the cash back and returns BeyondBankruptcy.
func (a *Account) AddMarginChecked(sym *market.Symbol, amount market.Money, keep func() bool) Code {
	i, c := a.isolatedSlot(sym)
	switch {
	case c != OK:
		return c
	case amount <= 0:
		return BadRequest
	case amount > a.Available():
		return InsufficientMargin
	}
	a.cash -= amount
	a.pos[i].margin += amount
	a.afterChange(i)
	if keep != nil && !a.AsIsolatedOpensFill(keep) {
		a.cash += amount
		a.pos[i].margin -= amount
		a.afterChange(i)
		return BeyondBankruptcy
	}
	return OK
}

// RemoveMargin moves amount from sym's isolated margin back to cash while
// margin − amount + min(uPnL, 0) stays ≥ the position's initial margin.
func (a *Account) RemoveMargin(sym *market.Symbol, amount market.Money) Code {
	return a.RemoveMarginChecked(sym, amount, nil)
}

// RemoveMarginChecked is RemoveMargin that then asks keep, as
// WithdrawChecked does: false puts the margin back and returns
// BeyondBankruptcy.
func (a *Account) RemoveMarginChecked(sym *market.Symbol, amount market.Money, keep func() bool) Code {
	i, c := a.isolatedSlot(sym)
	if c != OK {
		return c
	}
	p := &a.pos[i]
	if amount <= 0 {
		return BadRequest
	}
	if amount > p.margin || p.margin-amount+min(p.upnl(), 0) < p.initialMargin() {
		return InsufficientMargin
	}
	p.margin -= amount
	a.cash += amount
	a.afterChange(i)
	if keep != nil && !a.AsIsolatedOpensFill(keep) {
		p.margin += amount
		a.cash -= amount
		a.afterChange(i)
		return BeyondBankruptcy
	}
	return OK
}

// Setting is sym's margin mode and leverage for this account: the ones set,
// or those a first order would get (no slot is made for asking).
func (a *Account) Setting(sym *market.Symbol) (MarginMode, int64) {
	if i := a.find(sym); i >= 0 {
		return a.pos[i].mode, a.pos[i].lev
	}
	return a.mode, InitialLeverage(sym)
}

// opensUnderMaintenanceAny says whether one of the isolated orders os
// would be liquidatable the moment it fills at mark (opensUnderMaintenance)
// with as many of its lots opening as its side holds beyond the position.
func (p *position) opensUnderMaintenanceAny(os []Order, mark book.Ticks) bool {
	for _, o := range os {
		w := p.worstQty(o.Side, 0)
		open := min(o.Qty, max(p.side[sideIdx(o.Side)].qty-p.closeCap(o.Side), 0))
		if mark > 0 && open > 0 && p.opensUnderMaintenance(o.Side, o.Price, open, w, mark) {
			return true
		}
	}
	return false
}
