package wire

import "fmt"

// Code is an UPPER_SNAKE error code of the reply envelope.
type Code string

// The error codes of API.md.
const (
	CodeBadRequest             Code = "BAD_REQUEST"
	CodeUnknownSymbol          Code = "UNKNOWN_SYMBOL"
	CodeInvalidPrice           Code = "INVALID_PRICE"
	CodeInvalidQty             Code = "INVALID_QTY"
	CodeMinNotional            Code = "MIN_NOTIONAL"
	CodeInsufficientMargin     Code = "INSUFFICIENT_MARGIN"
	CodeReduceOnlyRejected     Code = "REDUCE_ONLY_REJECTED"
	CodePostOnlyWouldTake      Code = "POST_ONLY_WOULD_TAKE"
	CodeFOKNotFilled           Code = "FOK_NOT_FILLED"
	CodeUnknownOrder           Code = "UNKNOWN_ORDER"
	CodeDuplicateClientOrderID Code = "DUPLICATE_CLIENT_ORDER_ID"
	CodeLeverageTooHigh        Code = "LEVERAGE_TOO_HIGH"
	CodeAccountInLiquidation   Code = "ACCOUNT_IN_LIQUIDATION"
	CodeRateLimited            Code = "RATE_LIMITED"
	CodeTooManyOrders          Code = "TOO_MANY_ORDERS"
	CodeInternal               Code = "INTERNAL"
	// CodeWouldTriggerImmediately: a conditional order whose trigger
	// already holds (Binance -2021).
	CodeWouldTriggerImmediately Code = "WOULD_TRIGGER_IMMEDIATELY"
	// CodePositionOpen, CodeOpenOrders: a margin mode cannot change while
	// the symbol has a position, or open orders (Binance -4048, -4047).
	CodePositionOpen Code = "POSITION_OPEN"
	CodeOpenOrders   Code = "OPEN_ORDERS"
	// CodeNoIsolatedPosition: position_margin needs an isolated position.
	CodeNoIsolatedPosition Code = "NO_ISOLATED_POSITION"
	// CodeNotResumable: admin.resume refused; the part stays out of service.
	CodeNotResumable Code = "NOT_RESUMABLE"
)

var allCodes = []Code{
	CodeBadRequest, CodeUnknownSymbol, CodeInvalidPrice, CodeInvalidQty,
	CodeMinNotional, CodeInsufficientMargin, CodeReduceOnlyRejected,
	CodePostOnlyWouldTake, CodeFOKNotFilled, CodeUnknownOrder,
	CodeDuplicateClientOrderID, CodeLeverageTooHigh, CodeAccountInLiquidation,
	CodeRateLimited, CodeTooManyOrders, CodeInternal, CodeWouldTriggerImmediately,
	CodePositionOpen, CodeOpenOrders, CodeNoIsolatedPosition, CodeNotResumable,
}

// Codes returns every error code of the contract.
func Codes() []Code { return append([]Code(nil), allCodes...) }

// Known reports whether c is one of Codes.
func (c Code) Known() bool {
	for _, k := range allCodes {
		if c == k {
			return true
		}
	}
	return false
}

// Error is the "error" object of a failed reply; it is also a Go error.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
