package wire

import "github.com/shopspring/decimal"

// MarginModeName is a margin mode on the wire.
type MarginModeName string

const (
	MarginCross    MarginModeName = "cross"
	MarginIsolated MarginModeName = "isolated"
)

// MarginMode is the body of <prefix>.acct.<acct>.margin_mode: the margin
// mode of the account's position in Symbol.
type MarginMode struct {
	Symbol string         `json:"symbol"`
	Mode   MarginModeName `json:"mode"`
}

// DecodeMarginMode decodes a margin mode change.
func DecodeMarginMode(data []byte) (MarginMode, *Error) {
	var m MarginMode
	if err := decodeObject(data, []field{
		{"symbol", true, token(&m.Symbol)},
		{"mode", true, enum(&m.Mode, MarginCross, MarginIsolated)},
	}); err != nil {
		return MarginMode{}, err
	}
	return m, nil
}

// MarginModeReply answers a margin mode change; Changed is false when the
// symbol already was in Mode (nothing to do, as Binance's -4046 says).
type MarginModeReply struct {
	Reply
	Symbol  string         `json:"symbol,omitempty"`
	Mode    MarginModeName `json:"mode,omitempty"`
	Changed bool           `json:"changed"`
}

// PositionMargin is the body of <prefix>.acct.<acct>.position_margin: Delta
// moves that much from the account's available balance into the isolated
// position's margin (+) or back (−).
type PositionMargin struct {
	Symbol string          `json:"symbol"`
	Delta  decimal.Decimal `json:"delta"`
}

// DecodePositionMargin decodes an isolated margin move; a zero delta is
// BAD_REQUEST (it moves nothing).
func DecodePositionMargin(data []byte) (PositionMargin, *Error) {
	var m PositionMargin
	err := decodeObject(data, []field{
		{"symbol", true, token(&m.Symbol)},
		{"delta", true, dec(&m.Delta)},
	})
	if err == nil && m.Delta.IsZero() {
		err = Errorf(CodeBadRequest, "delta must not be zero: + adds margin, - removes it")
	}
	if err != nil {
		return PositionMargin{}, err
	}
	return m, nil
}

// PositionMarginReply answers an isolated margin move with the position's
// margin and the account's available balance after it.
type PositionMarginReply struct {
	Reply
	Symbol    string          `json:"symbol,omitempty"`
	Margin    decimal.Decimal `json:"margin"`
	Available decimal.Decimal `json:"available"`
}

// Withdraw is the body of <prefix>.acct.<acct>.withdraw.
type Withdraw struct {
	Asset  string          `json:"asset"`
	Amount decimal.Decimal `json:"amount"`
}

// DecodeWithdraw decodes a withdrawal; an amount ≤ 0 is BAD_REQUEST.
func DecodeWithdraw(data []byte) (Withdraw, *Error) {
	var w Withdraw
	err := decodeObject(data, []field{
		{"asset", true, token(&w.Asset)},
		{"amount", true, dec(&w.Amount)},
	})
	if err == nil && w.Amount.Sign() <= 0 {
		err = Errorf(CodeBadRequest, "amount %s must be positive", w.Amount)
	}
	if err != nil {
		return Withdraw{}, err
	}
	return w, nil
}
