package actors

import (
	"errors"
	"slices"

	"github.com/perpx/perpx/adl"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// Conversions between the wire schemas and the cores' integer types. They
// translate; they decide nothing.

// wireError is what a core's refusal becomes on the wire.
type wireError struct {
	code wire.Code
	msg  string
}

// riskErrors translates every risk.Code (TestErrorTablesCoverEveryCode).
// A code that no client request can get from risk (the account actor only
// passes on PreTrade's and SetLeverage's refusals) maps to INTERNAL: if one
// ever reaches a client, the exchange called risk wrongly, not the client.
// OK is no refusal at all, so it is such a bug too.
var riskErrors = [...]wireError{
	risk.OK:                   {wire.CodeInternal, "refused without a reason"},
	risk.BadRequest:           {wire.CodeBadRequest, "the request is malformed, or the account already uses the most symbols allowed"},
	risk.UnknownSymbol:        {wire.CodeUnknownSymbol, "unknown symbol"},
	risk.InvalidPrice:         {wire.CodeInvalidPrice, "the price is outside the price band"},
	risk.NoMarkPrice:          {wire.CodeInvalidPrice, "the symbol has no mark price yet"},
	risk.InvalidQty:           {wire.CodeInvalidQty, "the quantity, or the position it could make, is over the symbol's limit"},
	risk.MinNotional:          {wire.CodeMinNotional, "the order's notional is below the symbol's minimum"},
	risk.InsufficientMargin:   {wire.CodeInsufficientMargin, "not enough available margin"},
	risk.ReduceOnlyRejected:   {wire.CodeReduceOnlyRejected, "the reduce-only order could increase the position"},
	risk.LeverageTooHigh:      {wire.CodeLeverageTooHigh, "the leverage is over the symbol's maximum or its tier's at this size"},
	risk.AccountInLiquidation: {wire.CodeAccountInLiquidation, "the account is being liquidated"},
	risk.UnknownOrder:         {wire.CodeUnknownOrder, "the order is not open"},
	risk.TooManyOrders:        {wire.CodeTooManyOrders, "the account already holds the most open orders allowed in this symbol"},
	// The order would close the position past its bankruptcy price: more
	// margin (or a better price) is what it needs.
	risk.BeyondBankruptcy: {wire.CodeInsufficientMargin, "the price is past the position's bankruptcy price: its margin cannot pay the loss of a fill there"},
	// The order opens so far from the mark that its own margin cannot hold
	// the loss: more margin (lower leverage) or a price nearer the mark.
	risk.OpenLossUncovered: {wire.CodeInsufficientMargin, "not enough available margin for the order's initial margin, fee and its loss against the mark at its price (a buy above the mark, a sell below it reserves that loss)"},
	// The resting closes and isolated opens of one balance: either may
	// fill first (the account actor names the close itself: margin.go).
	risk.IsolatedOpenPastClose:    {wire.CodeInsufficientMargin, "the isolated order's margin and fee, out of the balance once it fills, would leave a closing order past its position's bankruptcy price: cancel that order first, or open less"},
	risk.CloseBeyondIsolatedOpens: {wire.CodeInsufficientMargin, "the price is past the position's bankruptcy price once the resting isolated opening orders take their margin and fee out of the balance as they fill: cancel them first, or bring the price nearer the mark"},
	risk.WouldLiquidate:           {wire.CodeInsufficientMargin, "a fill at this price would lose more against the mark than the order's initial margin holds above the maintenance margin it adds: liquidatable as it fills (lower the leverage, or bring the price nearer the mark)"},
	// SetMarginMode's refusal (the account actor names the position or the
	// orders itself first: margin.go).
	risk.PositionOpen: {wire.CodePositionOpen, "the margin mode cannot change while a position or order is open"},
	// position_margin's (margin.go says it itself); fills, ADL closes and
	// socialized charges get it only from the exchange's own calls.
	risk.NoPosition: {wire.CodeNoIsolatedPosition, "no isolated position in the symbol"},
	// StartLiquidation's: the account actor's own decision.
	risk.NotLiquidatable:     {wire.CodeInternal, "the position is not liquidatable"},
	risk.Internal:            {wire.CodeInternal, "the account cannot account for a fill or close"},
	risk.ChargeExceedsProfit: {wire.CodeInternal, "a socialized charge exceeds the position's profit"},
}

// bookErrors translates every book.RejectCode
// (TestErrorTablesCoverEveryCode); OK is no refusal (a bug, as above).
var bookErrors = [...]wireError{
	book.OK:                      {wire.CodeInternal, "refused without a reason"},
	book.RejectBadRequest:        {wire.CodeBadRequest, "bad request"},
	book.RejectInvalidPrice:      {wire.CodeInvalidPrice, "invalid price"},
	book.RejectInvalidQty:        {wire.CodeInvalidQty, "invalid quantity"},
	book.RejectPostOnlyWouldTake: {wire.CodePostOnlyWouldTake, "the post-only order would take liquidity"},
	book.RejectFOKNotFilled:      {wire.CodeFOKNotFilled, "the fill-or-kill order could not fill completely"},
	book.RejectUnknownOrder:      {wire.CodeUnknownOrder, "the order is no longer open"},
	// Order ids are the exchange's (one counter), so a duplicate is its bug.
	book.RejectDuplicateOrderID: {wire.CodeInternal, "duplicate order id"},
}

// riskError is c's wire error; a code missing from riskErrors is INTERNAL.
func riskError(c risk.Code) *wire.Error {
	if int(c) < len(riskErrors) && riskErrors[c].code != "" {
		return riskErrors[c].err()
	}
	return wire.Errorf(wire.CodeInternal, "unexpected risk code %s", c)
}

// bookError is c's wire error; a code missing from bookErrors is INTERNAL.
func bookError(c book.RejectCode) *wire.Error {
	if int(c) < len(bookErrors) && bookErrors[c].code != "" {
		return bookErrors[c].err()
	}
	return wire.Errorf(wire.CodeInternal, "unexpected book reject %s", c)
}

// refusal is a book's answer as a wire error: err when the book set one
// (it is out of service), else its reject code's.
func refusal(err *wire.Error, c book.RejectCode) *wire.Error {
	if err != nil {
		return err
	}
	return bookError(c)
}

func (e wireError) err() *wire.Error { return &wire.Error{Code: e.code, Message: e.msg} }

// coreErrors translates the sentinel errors of fund and adl (their
// refusals are errors, not codes; TestErrorTablesCoverEveryCode) for the
// requests that can get one; the message is the error's own text, detail
// included. As above, a sentinel no client request can get maps to
// INTERNAL: the exchange called the core wrongly.
var coreErrors = [...]struct {
	sentinel error
	code     wire.Code
}{
	// Fund.Deposit's refusals of a fund deposit (admin).
	{fund.ErrInvalidAsset, wire.CodeBadRequest},
	{fund.ErrInvalidAmount, wire.CodeBadRequest},
	{fund.ErrOverflow, wire.CodeBadRequest},
	// Reservations and settlements: the liquidation protocol's calls.
	{fund.ErrInvalidConfig, wire.CodeInternal},
	{fund.ErrInvalidReservation, wire.CodeInternal},
	{fund.ErrDuplicateReservation, wire.CodeInternal},
	{fund.ErrUnknownReservation, wire.CodeInternal},
	{fund.ErrAssetMismatch, wire.CodeInternal},
	{fund.ErrSnapshot, wire.CodeInternal}, // recovery's, never a request's
	{fund.ErrSnapshotVersion, wire.CodeInternal},
	// The ranking is fed by the exchange (positions, marks, closes), and
	// the ADL queue request's symbol and side are checked before it asks
	// Ranking.Top: every refusal is the exchange's.
	{adl.ErrInvalidConfig, wire.CodeInternal},
	{adl.ErrInvalidMode, wire.CodeInternal},
	{adl.ErrUnknownSymbol, wire.CodeInternal},
	{adl.ErrDuplicateSymbol, wire.CodeInternal},
	{adl.ErrInvalidSide, wire.CodeInternal},
	{adl.ErrInvalidQty, wire.CodeInternal},
	{adl.ErrInvalidCost, wire.CodeInternal},
	{adl.ErrInvalidMargin, wire.CodeInternal},
	{adl.ErrInvalidPrice, wire.CodeInternal},
	{adl.ErrInvalidAmount, wire.CodeInternal},
	// Top before the symbol's first mark: INTERNAL as it always was,
	// though the request is not wrong (INVALID_PRICE, like risk's
	// NoMarkPrice, would say more; a contract change).
	{adl.ErrNoMark, wire.CodeInternal},
	{adl.ErrNoPosition, wire.CodeInternal},
	{adl.ErrQtyExceedsPosition, wire.CodeInternal},
	{adl.ErrOverflow, wire.CodeInternal},
	{adl.ErrSnapshot, wire.CodeInternal},
	{adl.ErrSnapshotVersion, wire.CodeInternal},
}

// coreError is err's wire error: the code of the coreErrors sentinel it
// wraps (INTERNAL for any other error), with err's text.
func coreError(err error) *wire.Error {
	for _, e := range coreErrors {
		if errors.Is(err, e.sentinel) {
			return &wire.Error{Code: e.code, Message: err.Error()}
		}
	}
	return &wire.Error{Code: wire.CodeInternal, Message: err.Error()}
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

// stpModes are the wire names of the book's STP modes.
var stpModes = [...]wire.STP{book.STPCancelMaker: wire.STPCancelMaker, book.STPCancelTaker: wire.STPCancelTaker,
	book.STPCancelBoth: wire.STPCancelBoth, book.STPNone: wire.STPNone}

// bookSTP is s's book mode; an order that names none (an in-process
// caller's) gets wire.DefaultSTP's.
func bookSTP(s wire.STP) book.STPMode {
	if i := slices.Index(stpModes[:], s); i >= 0 {
		return book.STPMode(i)
	}
	return book.STPCancelTaker // wire.DefaultSTP (TestSTPModes)
}

func wireSTP(m book.STPMode) wire.STP { return stpModes[m] }

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

func levels(h *symbolHandle, ls []book.Level) []wire.Level {
	out := make([]wire.Level, len(ls))
	for i, l := range ls {
		out[i] = wire.NewLevel(h.price(l.Price), h.qty(l.Qty))
	}
	return out
}

// The symbol's decimal conversions, on market.Conv's integer fast paths.

func (h *symbolHandle) price(t book.Ticks) decimal.Decimal { return h.conv.Price(t) }

func (h *symbolHandle) qty(l book.Lots) decimal.Decimal { return h.conv.Qty(l) }

func (h *symbolHandle) toTicks(d decimal.Decimal) (book.Ticks, error) { return h.conv.Ticks(d) }

func (h *symbolHandle) toLots(d decimal.Decimal) (book.Lots, error) { return h.conv.Lots(d) }

func (h *symbolHandle) priceOf(v market.Money, q book.Lots) decimal.Decimal {
	return h.conv.AvgPrice(v, q)
}
