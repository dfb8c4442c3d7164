package risk

import (
	"math"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// MarginMode says what backs a position.
type MarginMode uint8

const (
	// Cross: the account's whole cash balance backs every cross position.
	Cross MarginMode = 1
	// Isolated: a fixed margin set aside for the one position backs it.
	Isolated MarginMode = 2
)

func (m MarginMode) String() string {
	switch m {
	case Cross:
		return "cross"
	case Isolated:
		return "isolated"
	}
	return "invalid"
}

const (
	// MaxSymbols is the most symbols one account may hold positions or
	// orders in; with MaxNotionalCap per position every account sum fits in
	// int64 (doc.go, "Overflow").
	MaxSymbols = 32
	// MaxBalance bounds the cash a deposit may bring an account to (1e9 USDT).
	MaxBalance market.Money = 100_000_000_000_000_000
	// DefaultLeverage of a symbol until SetLeverage (capped by the first tier).
	DefaultLeverage = 20
	// MaxMarginRatio is what MarginRatio reports when equity is ≤ 0.
	MaxMarginRatio market.Rate = math.MaxInt64
)

// Account is one trader's risk state: cash, positions, open-order
// reservations, leverage and margin mode per symbol. It is a pure value: not
// safe for concurrent use (one actor owns it), no clock, no I/O; every
// decision is returned.
type Account struct {
	id     book.AccountID
	mode   MarginMode // default for new symbols
	cash   market.Money
	pos    []position               // one slot per symbol ever used; never removed
	orders book.OrderSet[openOrder] // open orders
	// orderMargin is Σ pos[i].orderMargin; isoOrderMargin its isolated
	// slots' part: what their opening orders may take out of the cash as
	// they fill (initial margin and fee), which closes are held to.
	orderMargin    market.Money
	isoOrderMargin market.Money
	nOpen          int // positions with qty ≠ 0
	nCross         int // cross positions with qty ≠ 0
	crossSlot      int // the slot of that position when nCross == 1
	inLiq          bool
}

// NewAccount returns an empty account whose symbols start in mode (Cross
// when mode is not Isolated).
func NewAccount(id book.AccountID, mode MarginMode) *Account {
	if mode != Isolated {
		mode = Cross
	}
	return &Account{id: id, mode: mode, crossSlot: -1}
}

// ID is the account's id.
func (a *Account) ID() book.AccountID { return a.id }

// InLiquidation is true between StartLiquidation and EndLiquidation.
func (a *Account) InLiquidation() bool { return a.inLiq }

// Cash is the cross wallet: deposits − withdrawals + realized PnL − fees ±
// funding of cross positions, minus what is set aside as isolated margin.
func (a *Account) Cash() market.Money { return a.cash }

// Balance is Cash plus every isolated margin: the account's share in the
// conservation identity (doc.go).
func (a *Account) Balance() market.Money {
	b := a.cash
	for i := range a.pos {
		b += a.pos[i].margin
	}
	return b
}

// find returns the slot index of sym or -1.
func (a *Account) find(sym *market.Symbol) int {
	for i := range a.pos {
		if a.pos[i].sym == sym {
			return i
		}
	}
	return -1
}

// slot returns the slot index of sym, creating it; -1 when the account
// already uses MaxSymbols symbols.
func (a *Account) slot(sym *market.Symbol) int {
	if i := a.find(sym); i >= 0 {
		return i
	}
	if len(a.pos) >= MaxSymbols {
		return -1
	}
	a.pos = append(a.pos, position{sym: sym, mode: a.mode, lev: InitialLeverage(sym)})
	return len(a.pos) - 1
}

// InitialLeverage is an account's leverage in sym until SetLeverage:
// DefaultLeverage capped by the symbol's and its first tier's maximum.
func InitialLeverage(sym *market.Symbol) int64 {
	return min(int64(DefaultLeverage), sym.MaxLeverage, sym.Tiers[0].MaxLeverage)
}

// Deposit adds amount to cash. BadRequest when amount ≤ 0 or cash would
// exceed MaxBalance.
func (a *Account) Deposit(amount market.Money) Code {
	if amount <= 0 || amount > MaxBalance-a.cash {
		return BadRequest
	}
	a.cash += amount
	a.afterChange(-1)
	return OK
}

// Withdraw removes amount from cash if the account stays able to carry its
// positions and orders: amount ≤ Cash and amount ≤ Available (so equity
// after the withdrawal still covers the initial margin in use).
func (a *Account) Withdraw(amount market.Money) Code { return a.WithdrawChecked(amount, nil) }

// WithdrawChecked is Withdraw that, once the money is out, asks keep (when
// set) whether the account may stay so: the caller's check of what risk
// does not hold, its orders' limit prices against the bankruptcy prices
// the withdrawal raised, with what the isolated opening orders reserve out
// of the cash too (AsIsolatedOpensFill). false puts the money back as it was and
// returns BeyondBankruptcy.
func (a *Account) WithdrawChecked(amount market.Money, keep func() bool) Code {
	switch {
	case a.inLiq:
		return AccountInLiquidation
	case amount <= 0:
		return BadRequest
	case amount > a.cash || amount > a.Available():
		return InsufficientMargin
	}
	a.cash -= amount
	a.afterChange(-1)
	if keep != nil && !a.AsIsolatedOpensFill(keep) {
		a.cash += amount
		a.afterChange(-1)
		return BeyondBankruptcy
	}
	return OK
}

// crossUPnLIM returns the unrealized PnL and initial margin of the cross
// positions at their stored marks.
func (a *Account) crossUPnLIM() (upnl, im market.Money) {
	for i := range a.pos {
		p := &a.pos[i]
		if p.qty == 0 || p.mode != Cross {
			continue
		}
		upnl += p.upnl()
		im += p.initialMargin()
	}
	return upnl, im
}

// crossEquityMM returns cash + Σ cross uPnL and Σ cross maintenance margin.
func (a *Account) crossEquityMM() (equity, mm market.Money) {
	equity = a.cash
	for i := range a.pos {
		p := &a.pos[i]
		if p.qty == 0 || p.mode != Cross {
			continue
		}
		equity += p.upnl()
		mm += p.maintenance()
	}
	return equity, mm
}

// Available is what new orders, withdrawals and added margin may use:
// cash + Σ cross uPnL − Σ cross initial margin − open-order margin. It may be
// negative after adverse moves.
func (a *Account) Available() market.Money {
	upnl, im := a.crossUPnLIM()
	return a.cash + upnl - im - a.orderMargin
}

// OrderMargin is the margin reserved by open orders.
func (a *Account) OrderMargin() market.Money { return a.orderMargin }

// OrderLoss is the open loss open order id reserves (position.openLoss;
// 0 for an unknown order), for state digests.
func (a *Account) OrderLoss(id book.OrderID) market.Money {
	if j := a.orders.Find(id); j >= 0 {
		return a.orders.At(j).loss
	}
	return 0
}

// Equity is cash + Σ cross uPnL + Σ isolated (margin + uPnL), at the stored
// marks.
func (a *Account) Equity() market.Money {
	e := a.cash
	for i := range a.pos {
		p := &a.pos[i]
		e += p.margin
		if p.qty != 0 {
			e += p.upnl()
		}
	}
	return e
}

// MaintenanceMargin is Σ MM over all positions at the stored marks.
func (a *Account) MaintenanceMargin() market.Money {
	var mm market.Money
	for i := range a.pos {
		if a.pos[i].qty != 0 {
			mm += a.pos[i].maintenance()
		}
	}
	return mm
}

// MarginRatio is the cross part's maintenance margin / equity as a Rate
// (1.0 = RateScale: liquidation); 0 without cross positions, MaxMarginRatio
// when cross equity is ≤ 0 with positions open.
func (a *Account) MarginRatio() market.Rate {
	if a.nCross == 0 {
		return 0
	}
	eq, mm := a.crossEquityMM()
	if eq <= 0 {
		return MaxMarginRatio
	}
	r, ok := market.MulDiv(int64(mm), market.RateScale, int64(eq), true)
	if !ok {
		return MaxMarginRatio
	}
	return market.Rate(r)
}

// PositionState is a read-only view of one symbol's state.
type PositionState struct {
	Symbol   *market.Symbol
	Mode     MarginMode
	Leverage int64
	// Qty is signed (+ long); Cost the signed sum of the open fills' values.
	Qty      book.Lots
	Cost     market.Money
	Margin   market.Money // isolated margin (0 for cross)
	Mark     book.Ticks
	Realized market.Money // cumulative realized PnL (excluding fees)
	// Open orders: remaining quantity per side and the symbol's reservation.
	BuyQty, SellQty book.Lots
	OrderMargin     market.Money
}

// Qty is sym's signed position (+ long), 0 when flat or never used.
func (a *Account) Qty(sym *market.Symbol) book.Lots {
	if i := a.find(sym); i >= 0 {
		return a.pos[i].qty
	}
	return 0
}

// Mark is the mark sym's position is valued at (0 when never used).
func (a *Account) Mark(sym *market.Symbol) book.Ticks {
	if i := a.find(sym); i >= 0 {
		return a.pos[i].mark
	}
	return 0
}

// Position returns the state of sym; ok is false if the account never used it.
func (a *Account) Position(sym *market.Symbol) (PositionState, bool) {
	i := a.find(sym)
	if i < 0 {
		return PositionState{}, false
	}
	p := &a.pos[i]
	return PositionState{
		Symbol: p.sym, Mode: p.mode, Leverage: p.lev, Qty: p.qty, Cost: p.cost, Margin: p.margin,
		Mark: p.mark, Realized: p.realized, BuyQty: p.side[0].qty, SellQty: p.side[1].qty,
		OrderMargin: p.orderMargin,
	}, true
}
