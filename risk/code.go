package risk

// Code is the outcome of a risk decision. OK is zero; String is the code's
// UPPER_SNAKE name, API.md's error code where one has that name (the
// actors translate every code: actors/convert.go).
type Code uint8

const (
	OK Code = iota
	BadRequest
	UnknownSymbol
	InvalidPrice
	InvalidQty
	MinNotional
	InsufficientMargin
	ReduceOnlyRejected
	LeverageTooHigh
	AccountInLiquidation
	UnknownOrder
	// NoMarkPrice: the symbol has no mark price yet, so no band or margin
	// can be computed.
	NoMarkPrice
	// PositionOpen: the margin mode of a symbol with a position or open
	// orders cannot change.
	PositionOpen
	// NoPosition: the operation needs an open position in the symbol.
	NoPosition
	// NotLiquidatable: StartLiquidation on a position that is not
	// liquidatable at the stored marks.
	NotLiquidatable
	// Internal: a fill or close the account cannot account for (for example
	// more than the order's remaining quantity) — a caller bug.
	Internal
	// ChargeExceedsProfit: a socialized-loss charge larger than the
	// position's unrealized profit at the given mark (internal; never sent
	// to clients).
	ChargeExceedsProfit
	// TooManyOrders: the account already holds the symbol's MaxOpenOrders.
	TooManyOrders
	// BeyondBankruptcy: a limit order that would close the position at a
	// price past its bankruptcy price, a loss its margin cannot pay; or a
	// withdrawal or margin removal whose caller found that it would leave
	// such an order (WithdrawChecked).
	BeyondBankruptcy
	// WouldLiquidate: an isolated position's limit order whose opening
	// part, filled at its price, loses so much against the mark that its
	// own initial margin is left at or under the maintenance margin it adds
	// (a cross order reserves that loss instead: OpenLossUncovered).
	WouldLiquidate
	// OpenLossUncovered is InsufficientMargin for an order that also
	// reserves its open loss against the mark (a cross order priced against
	// it: position.openLoss).
	OpenLossUncovered
	// IsolatedOpenPastClose: an isolated position's opening order whose
	// initial margin and fee, out of the cash once it fills (with what the
	// other isolated opening orders reserve), would leave a closing order
	// past its position's close bound (PreTradeChecked's caller found it);
	// SetLeverageChecked's for a leverage that raises what they reserve.
	IsolatedOpenPastClose
	// CloseBeyondIsolatedOpens is BeyondBankruptcy at the cash less what
	// the isolated positions' opening orders reserve: they may fill first.
	CloseBeyondIsolatedOpens

	numCodes // not a code: the number of codes (Codes)
)

// Codes returns every Code, OK first, so a table keyed by Code (a
// translation into another vocabulary) can be tested for completeness.
func Codes() []Code {
	cs := make([]Code, numCodes)
	for i := range cs {
		cs[i] = Code(i)
	}
	return cs
}

var codeNames = [numCodes]string{
	OK:                       "OK",
	BadRequest:               "BAD_REQUEST",
	UnknownSymbol:            "UNKNOWN_SYMBOL",
	InvalidPrice:             "INVALID_PRICE",
	InvalidQty:               "INVALID_QTY",
	MinNotional:              "MIN_NOTIONAL",
	InsufficientMargin:       "INSUFFICIENT_MARGIN",
	ReduceOnlyRejected:       "REDUCE_ONLY_REJECTED",
	LeverageTooHigh:          "LEVERAGE_TOO_HIGH",
	AccountInLiquidation:     "ACCOUNT_IN_LIQUIDATION",
	UnknownOrder:             "UNKNOWN_ORDER",
	NoMarkPrice:              "NO_MARK_PRICE",
	PositionOpen:             "POSITION_OPEN",
	NoPosition:               "NO_POSITION",
	NotLiquidatable:          "NOT_LIQUIDATABLE",
	Internal:                 "INTERNAL",
	ChargeExceedsProfit:      "CHARGE_EXCEEDS_PROFIT",
	TooManyOrders:            "TOO_MANY_ORDERS",
	BeyondBankruptcy:         "BEYOND_BANKRUPTCY",
	WouldLiquidate:           "WOULD_LIQUIDATE",
	OpenLossUncovered:        "OPEN_LOSS_UNCOVERED",
	IsolatedOpenPastClose:    "ISOLATED_OPEN_PAST_CLOSE",
	CloseBeyondIsolatedOpens: "CLOSE_BEYOND_ISOLATED_OPENS",
}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "INTERNAL"
}
