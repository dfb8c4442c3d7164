package binance

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/perpx/perpx/wire"
)

// apiError is Binance's error body, {"code":-1022,"msg":"..."}, with the
// HTTP status it is sent with.
type apiError struct {
	status int
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Msg) }

func errf(status, code int, format string, args ...any) *apiError {
	return &apiError{status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Binance's codes (developers.binance.com, USDⓈ-M futures error codes).
const (
	codeUnknown          = -1000
	codeDisconnected     = -1001
	codeTooManyRequests  = -1003
	codeTimeout          = -1007
	codeOverloaded       = -1008
	codeFilter           = -1013
	codeTimestamp        = -1021
	codeSignature        = -1022
	codeIllegalChars     = -1100
	codeMandatory        = -1102
	codeNotRequired      = -1106
	codeBadTIF           = -1115
	codeBadType          = -1116
	codeBadSide          = -1117
	codeBadInterval      = -1120
	codeBadSymbol        = -1121
	codeBadListenKey     = -1125
	codeBadData          = -1130
	codeBadRecvWindow    = -1131
	codeBadRespType      = -1136
	codeCancelRejected   = -2011
	codeNoSuchOrder      = -2013
	codeBadKeyFormat     = -2014
	codeRejectedKey      = -2015
	codeMargin           = -2019
	codeWouldTrigger     = -2021
	codeReduceOnly       = -2022
	codeInLiquidation    = -2023
	codeMaxOpenOrders    = -2025
	codeBadClientID      = -4015
	codeBadDepthLimit    = -4021
	codeBadLeverage      = -4028
	codeMaxStopOrders    = -4045
	codeSameMarginType   = -4046
	codeMarginTypeOrders = -4047
	codeMarginTypePos    = -4048
	codeNotIsolated      = -4049
	codeSamePositionSide = -4059
	codePositionSide     = -4061
	codeDuplicateID      = -4116
	codeMinNotional      = -4164
	codeUseAlgo          = -4120
	codeSameAssetMode    = -4171
	codeFOK              = -5021
	codePostOnly         = -5022
	codeNoModify         = -5027
	codeBadPriceMatch    = -5037
	codeBadSTP           = -5039
)

func mandatory(name string) *apiError {
	return errf(400, codeMandatory, "Mandatory parameter '%s' was not sent, was empty/null, or malformed.", name)
}

func notRequired(name string) *apiError {
	return errf(400, codeNotRequired, "Parameter '%s' sent when not required.", name)
}

func illegal(name, legal string) *apiError {
	return errf(400, codeIllegalChars, "Illegal characters found in parameter '%s'; legal range is '%s'.", name, legal)
}

func badData(name string) *apiError {
	return errf(400, codeBadData, "Data sent for parameter '%s' is not valid.", name)
}

var (
	errSignature   = errf(400, codeSignature, "Signature for this request is not valid.")
	errKeyFormat   = errf(401, codeBadKeyFormat, "API-key format invalid.")
	errRejectedKey = errf(401, codeRejectedKey, "Invalid API-key, IP, or permissions for action.")
	errBadSymbol   = errf(400, codeBadSymbol, "Invalid symbol.")
	errNoSuchOrder = errf(400, codeNoSuchOrder, "Order does not exist.")
)

// orderCtx says what a request did, where one exchange code means different
// Binance codes: an unknown order is -2013 to a query and -2011 to a
// cancel; too many orders is -4045 for conditional ones.
type orderCtx uint8

const (
	ctxOther orderCtx = iota
	ctxCancel
	ctxQuery
	ctxAlgo
	ctxMarket // a market order: its quantity filter is MARKET_LOT_SIZE
)

// fromWire maps an API.md error to Binance's code and message; the
// exchange's own sentence follows Binance's where it says more.
func fromWire(e *wire.Error, ctx orderCtx) *apiError {
	more := func(code int, msg string) *apiError {
		return errf(400, code, "%s (%s)", msg, e.Message)
	}
	switch e.Code {
	case wire.CodeBadRequest:
		return errf(400, codeBadData, "Invalid data sent for a parameter: %s", e.Message)
	case wire.CodeUnknownSymbol:
		return errBadSymbol
	case wire.CodeInvalidPrice:
		if strings.Contains(e.Message, "band") {
			return more(codeFilter, "Filter failure: PERCENT_PRICE")
		}
		return more(codeFilter, "Filter failure: PRICE_FILTER")
	case wire.CodeInvalidQty:
		if ctx == ctxMarket {
			return more(codeFilter, "Filter failure: MARKET_LOT_SIZE")
		}
		return more(codeFilter, "Filter failure: LOT_SIZE")
	case wire.CodeMinNotional: // Binance futures' own code, not spot's -1013 (ccxt: InvalidOrder)
		return more(codeMinNotional, "Order's notional must be no smaller than the minimum (unless you choose reduce only).")
	case wire.CodeInsufficientMargin:
		return more(codeMargin, "Margin is insufficient.")
	case wire.CodeReduceOnlyRejected:
		return more(codeReduceOnly, "ReduceOnly Order is rejected.")
	case wire.CodePostOnlyWouldTake:
		return errf(400, codePostOnly, "Due to the order could not be executed as maker, the Post Only order will be rejected.")
	case wire.CodeFOKNotFilled:
		return errf(400, codeFOK, "Due to the order could not be filled immediately, the FOK order has been rejected.")
	case wire.CodeUnknownOrder:
		if ctx == ctxQuery {
			return errNoSuchOrder
		}
		return errf(400, codeCancelRejected, "Unknown order sent.")
	case wire.CodeDuplicateClientOrderID:
		return errf(400, codeDuplicateID, "ClientOrderId is duplicated.")
	case wire.CodeLeverageTooHigh:
		return more(codeBadLeverage, "Leverage is not valid")
	case wire.CodeAccountInLiquidation:
		return errf(400, codeInLiquidation, "User in liquidation mode now.")
	case wire.CodeRateLimited:
		return errf(http.StatusTooManyRequests, codeTooManyRequests, "Too many requests; current limit is the account's order rate. (%s)", e.Message)
	case wire.CodeTooManyOrders:
		if ctx == ctxAlgo {
			return errf(400, codeMaxStopOrders, "Reach max stop order limit.")
		}
		return errf(400, codeMaxOpenOrders, "Reach max open order limit.")
	case wire.CodeWouldTriggerImmediately:
		return errf(400, codeWouldTrigger, "Order would immediately trigger.")
	case wire.CodePositionOpen:
		return errf(400, codeMarginTypePos, "Margin type cannot be changed if there exists position.")
	case wire.CodeOpenOrders:
		return errf(400, codeMarginTypeOrders, "Margin type cannot be changed if there exists open orders.")
	case wire.CodeNoIsolatedPosition:
		return errf(400, codeNotIsolated, "Add margin only support for isolated position.")
	}
	return errf(http.StatusInternalServerError, codeUnknown, "An unknown error occurred while processing the request. (%s: %s)", e.Code, e.Message)
}
