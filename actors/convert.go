package actors

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Conversions between the wire schemas and the cores' integer types. They
// translate; they decide nothing.

func riskCode(c risk.Code) wire.Code {
	switch c {
	case risk.BadRequest:
		return wire.CodeBadRequest
	case risk.UnknownSymbol:
		return wire.CodeUnknownSymbol
	case risk.InvalidPrice, risk.NoMarkPrice:
		return wire.CodeInvalidPrice
	case risk.InvalidQty:
		return wire.CodeInvalidQty
	case risk.MinNotional:
		return wire.CodeMinNotional
	case risk.InsufficientMargin:
		return wire.CodeInsufficientMargin
	case risk.ReduceOnlyRejected:
		return wire.CodeReduceOnlyRejected
	case risk.LeverageTooHigh:
		return wire.CodeLeverageTooHigh
	case risk.AccountInLiquidation:
		return wire.CodeAccountInLiquidation
	case risk.UnknownOrder:
		return wire.CodeUnknownOrder
	case risk.PositionOpen, risk.NoPosition, risk.NotLiquidatable:
		return wire.CodeBadRequest
	}
	return wire.CodeInternal
}

func riskError(c risk.Code) *wire.Error {
	msg := "rejected by the risk check: " + c.String()
	if c == risk.NoMarkPrice {
		msg = "the symbol has no mark price yet"
	}
	return wire.Errorf(riskCode(c), "%s", msg)
}

func bookError(c book.RejectCode) *wire.Error {
	switch c {
	case book.RejectPostOnlyWouldTake:
		return wire.Errorf(wire.CodePostOnlyWouldTake, "the post-only order would take liquidity")
	case book.RejectFOKNotFilled:
		return wire.Errorf(wire.CodeFOKNotFilled, "the fill-or-kill order could not fill completely")
	case book.RejectUnknownOrder:
		return wire.Errorf(wire.CodeUnknownOrder, "the order is no longer open")
	case book.RejectInvalidPrice:
		return wire.Errorf(wire.CodeInvalidPrice, "invalid price")
	case book.RejectInvalidQty:
		return wire.Errorf(wire.CodeInvalidQty, "invalid quantity")
	case book.RejectBadRequest:
		return wire.Errorf(wire.CodeBadRequest, "bad request")
	}
	return wire.Errorf(wire.CodeInternal, "book reject %s", c)
}

func bookSide(s wire.Side) book.Side {
	if s == wire.Sell {
		return book.Sell
	}
	return book.Buy
}

func wireSide(s book.Side) wire.Side {
	if s == book.Sell {
		return wire.Sell
	}
	return wire.Buy
}

func posSide(qty book.Lots) wire.PosSide {
	if qty < 0 {
		return wire.Short
	}
	return wire.Long
}

func bookTIF(t wire.TIF) book.TIF {
	switch t {
	case wire.IOC:
		return book.IOC
	case wire.FOK:
		return book.FOK
	}
	return book.GTC
}

func wireTIF(t book.TIF) wire.TIF {
	switch t {
	case book.IOC:
		return wire.IOC
	case book.FOK:
		return wire.FOK
	}
	return wire.GTC
}

func wireStatus(s book.Status) wire.Status {
	switch s {
	case book.StatusPartiallyFilled:
		return wire.StatusPartiallyFilled
	case book.StatusFilled:
		return wire.StatusFilled
	case book.StatusCanceled:
		return wire.StatusCanceled
	case book.StatusRejected:
		return wire.StatusRejected
	case book.StatusExpired:
		return wire.StatusExpired
	}
	return wire.StatusNew
}

func terminal(s wire.Status) bool {
	return s != wire.StatusNew && s != wire.StatusPartiallyFilled
}

func abs[T ~int64](v T) T {
	if v < 0 {
		return -v
	}
	return v
}

// priceToNearestTick converts an index price (which need not be a tick
// multiple) to the nearest tick in [1, MaxPrice].
func priceToNearestTick(s *market.Symbol, d decimal.Decimal) (book.Ticks, bool) {
	if d.Sign() <= 0 {
		return 0, false
	}
	t := d.Div(s.TickSize).Round(0)
	if !t.IsInteger() || t.GreaterThan(decimal.NewFromInt(int64(s.MaxPrice))) {
		return 0, false
	}
	v := t.IntPart()
	if v < 1 {
		v = 1
	}
	return book.Ticks(v), true
}

func levels(s *market.Symbol, ls []book.Level) []wire.Level {
	out := make([]wire.Level, len(ls))
	for i, l := range ls {
		out[i] = wire.NewLevel(s.Price(l.Price), s.Qty(l.Qty))
	}
	return out
}
