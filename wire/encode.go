package wire

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// The Append helpers write the same bytes encoding/json would (a test holds
// them to it) without reflection, for the reply paths taken per order.

// AppendError appends {"ok":false,"error":{"code":..,"message":..}}.
func AppendError(dst []byte, e *Error) []byte {
	dst = append(dst, `{"ok":false,"error":`...)
	return append(appendErrorObject(dst, e), '}')
}

// appendErrorObject appends {"code":..,"message":..}.
func appendErrorObject(dst []byte, e *Error) []byte {
	dst = append(dst, `{"code":`...)
	dst = appendString(dst, string(e.Code))
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	return append(dst, '}')
}

// AppendOrderReply appends {"ok":true,"order":{..}}, or {"ok":true} for a
// nil o (the order is omitempty).
func AppendOrderReply(dst []byte, o *Order) []byte {
	if o == nil {
		return append(dst, `{"ok":true}`...)
	}
	dst = append(dst, `{"ok":true,"order":`...)
	dst = AppendOrder(dst, o)
	return append(dst, '}')
}

// AppendOrderReplyOf appends the ok reply r: AppendOrderReply's bytes with
// r.STPCanceled when there is one.
func AppendOrderReplyOf(dst []byte, r *OrderReply) []byte {
	dst = AppendOrderReply(dst, r.Order)
	if len(r.STPCanceled) == 0 {
		return dst
	}
	dst = append(dst[:len(dst)-1], `,"stp_canceled":[`...) // before the reply's closing brace
	for i, id := range r.STPCanceled {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, id)
	}
	return append(dst, "]}"...)
}

// AppendOrder appends o as a JSON object (null if nil).
func AppendOrder(dst []byte, o *Order) []byte {
	if o == nil {
		return appendNull(dst)
	}
	dst = append(dst, `{"order_id":`...)
	dst = appendString(dst, o.OrderID)
	dst = append(dst, `,"client_order_id":`...)
	dst = appendString(dst, o.ClientOrderID)
	dst = append(dst, `,"account":`...)
	dst = appendString(dst, o.Account)
	dst = append(dst, `,"symbol":`...)
	dst = appendString(dst, o.Symbol)
	dst = append(dst, `,"side":`...)
	dst = appendString(dst, string(o.Side))
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, string(o.Type))
	dst = append(dst, `,"price":`...)
	dst = appendDecimal(dst, o.Price)
	dst = append(dst, `,"qty":`...)
	dst = appendDecimal(dst, o.Qty)
	dst = append(dst, `,"filled_qty":`...)
	dst = appendDecimal(dst, o.FilledQty)
	dst = append(dst, `,"avg_price":`...)
	dst = appendDecimal(dst, o.AvgPrice)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, string(o.Status))
	dst = append(dst, `,"tif":`...)
	dst = appendString(dst, string(o.TIF))
	dst = append(dst, `,"reduce_only":`...)
	dst = strconv.AppendBool(dst, o.ReduceOnly)
	dst = append(dst, `,"post_only":`...)
	dst = strconv.AppendBool(dst, o.PostOnly)
	dst = append(dst, `,"stp":`...)
	dst = appendString(dst, string(o.STP))
	if o.CanceledBySTP {
		dst = append(dst, `,"canceled_by_stp":true`...)
	}
	if o.CanceledByBankruptcy {
		dst = append(dst, `,"canceled_by_bankruptcy":true`...)
	}
	dst = append(dst, `,"created_ms":`...)
	dst = strconv.AppendInt(dst, o.CreatedMs, 10)
	dst = append(dst, `,"updated_ms":`...)
	dst = strconv.AppendInt(dst, o.UpdatedMs, 10)
	if o.OrderTrigger != nil {
		dst = appendConditional(dst, o.OrderTrigger)
	}
	return append(dst, '}')
}

// appendConditional appends a conditional order's fields as their
// omitzero/omitempty tags would.
func appendConditional(dst []byte, o *OrderTrigger) []byte {
	if !o.TriggerPrice.IsZero() {
		dst = append(dst, `,"trigger_price":`...)
		dst = appendDecimal(dst, o.TriggerPrice)
	}
	if o.TriggerBy != "" {
		dst = append(dst, `,"trigger_by":`...)
		dst = appendString(dst, string(o.TriggerBy))
	}
	if !o.CallbackRate.IsZero() {
		dst = append(dst, `,"callback_rate":`...)
		dst = appendDecimal(dst, o.CallbackRate)
	}
	if !o.ActivationPrice.IsZero() {
		dst = append(dst, `,"activation_price":`...)
		dst = appendDecimal(dst, o.ActivationPrice)
	}
	if o.ClosePosition {
		dst = append(dst, `,"close_position":true`...)
	}
	return dst
}

// Encode marshals any reply or payload of this package. Should marshaling
// ever fail, it returns an INTERNAL error reply instead, so a requester
// always gets a well-formed envelope.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return AppendError(nil, Errorf(CodeInternal, "encoding the reply failed"))
	}
	return b
}

// appendDecimal writes d as decimal.Decimal.MarshalJSON does: its String,
// quoted unless decimal.MarshalJSONWithoutQuotes is set.
func appendDecimal(dst []byte, d decimal.Decimal) []byte {
	if decimal.MarshalJSONWithoutQuotes {
		return appendDecimalString(dst, d)
	}
	dst = append(dst, '"')
	dst = appendDecimalString(dst, d)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendString quotes s like encoding/json with HTML escaping: control
// characters, '"', '\\', '<', '>', '&', U+2028 and U+2029 are escaped and
// invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
