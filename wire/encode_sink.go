package wire

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// Encoders of the stream payloads (the actors' Sink), byte-identical to
// encoding/json like those of encode.go: the publisher encodes every trade,
// book update and account event with them. Each appends its value as a JSON
// object, or null for a nil pointer, as json.Marshal would.

// AppendAccountEvent appends e; its nil detail objects are omitted.
func AppendAccountEvent(dst []byte, e *AccountEvent) []byte {
	if e == nil {
		return appendNull(dst)
	}
	dst = append(dst, `{"type":`...)
	dst = appendString(dst, string(e.Type))
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"time_ms":`...)
	dst = strconv.AppendInt(dst, e.TimeMs, 10)
	dst = appendOmitNil(dst, `,"order":`, e.Order, AppendOrder)
	dst = appendOmitNil(dst, `,"fill":`, e.Fill, appendFill)
	dst = appendOmitNil(dst, `,"liquidation":`, e.Liquidation, appendLiquidation)
	dst = appendOmitNil(dst, `,"adl":`, e.ADL, AppendADLEvent)
	dst = appendOmitNil(dst, `,"funding":`, e.Funding, appendFunding)
	dst = appendOmitNil(dst, `,"error":`, e.Error, appendErrorObject)
	return append(dst, '}')
}

// AppendTrade appends t.
func AppendTrade(dst []byte, t *Trade) []byte {
	if t == nil {
		return appendNull(dst)
	}
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, t.Symbol)
	dst = append(dst, `,"price":`...)
	dst = appendDecimal(dst, t.Price)
	dst = append(dst, `,"qty":`...)
	dst = appendDecimal(dst, t.Qty)
	dst = append(dst, `,"taker_side":`...)
	dst = appendString(dst, string(t.TakerSide))
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, t.Seq, 10)
	dst = append(dst, `,"time_ms":`...)
	dst = strconv.AppendInt(dst, t.TimeMs, 10)
	return append(dst, '}')
}

// AppendBookUpdate appends u; a nil side is null, as encoding/json writes
// a nil slice.
func AppendBookUpdate(dst []byte, u *BookUpdate) []byte {
	if u == nil {
		return appendNull(dst)
	}
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, u.Seq, 10)
	dst = append(dst, `,"bids":`...)
	dst = appendLevels(dst, u.Bids)
	dst = append(dst, `,"asks":`...)
	dst = appendLevels(dst, u.Asks)
	return append(dst, '}')
}

// AppendMarkUpdate appends m.
func AppendMarkUpdate(dst []byte, m *MarkUpdate) []byte {
	if m == nil {
		return appendNull(dst)
	}
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, m.Symbol)
	dst = append(dst, `,"index":`...)
	dst = appendDecimal(dst, m.Index)
	dst = append(dst, `,"mark":`...)
	dst = appendDecimal(dst, m.Mark)
	dst = append(dst, `,"funding_rate":`...)
	dst = appendDecimal(dst, m.FundingRate)
	dst = append(dst, `,"next_funding_ms":`...)
	dst = strconv.AppendInt(dst, m.NextFundingMs, 10)
	dst = append(dst, `,"time_ms":`...)
	dst = strconv.AppendInt(dst, m.TimeMs, 10)
	return append(dst, '}')
}

// AppendFundEvent appends e; an empty account or symbol is omitted.
func AppendFundEvent(dst []byte, e *FundEvent) []byte {
	if e == nil {
		return appendNull(dst)
	}
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"time_ms":`...)
	dst = strconv.AppendInt(dst, e.TimeMs, 10)
	dst = append(dst, `,"asset":`...)
	dst = appendString(dst, e.Asset)
	dst = append(dst, `,"delta":`...)
	dst = appendDecimal(dst, e.Delta)
	dst = append(dst, `,"balance":`...)
	dst = appendDecimal(dst, e.Balance)
	dst = append(dst, `,"reason":`...)
	dst = appendString(dst, string(e.Reason))
	dst = appendOmitEmpty(dst, `,"account":`, e.Account)
	dst = appendOmitEmpty(dst, `,"symbol":`, e.Symbol)
	return append(dst, '}')
}

// AppendADLEvent appends e.
func AppendADLEvent(dst []byte, e *ADLEvent) []byte {
	if e == nil {
		return appendNull(dst)
	}
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, e.Symbol)
	dst = append(dst, `,"bankrupt_account":`...)
	dst = appendString(dst, e.BankruptAccount)
	dst = append(dst, `,"counterparty":`...)
	dst = appendString(dst, e.Counterparty)
	dst = append(dst, `,"qty":`...)
	dst = appendDecimal(dst, e.Qty)
	dst = append(dst, `,"price":`...)
	dst = appendDecimal(dst, e.Price)
	dst = append(dst, `,"time_ms":`...)
	dst = strconv.AppendInt(dst, e.TimeMs, 10)
	dst = appendOmitEmpty(dst, `,"side":`, string(e.Side))
	dst = appendOmitNil(dst, `,"realized_pnl":`, e.RealizedPnL, appendDecimalPtr)
	dst = appendOmitNil(dst, `,"fee":`, e.Fee, appendDecimalPtr)
	return append(dst, '}')
}

func appendDecimalPtr(dst []byte, d *decimal.Decimal) []byte { return appendDecimal(dst, *d) }

func appendFill(dst []byte, f *Fill) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, f.Symbol)
	dst = append(dst, `,"order_id":`...)
	dst = appendString(dst, f.OrderID)
	dst = append(dst, `,"client_order_id":`...)
	dst = appendString(dst, f.ClientOrderID)
	dst = append(dst, `,"side":`...)
	dst = appendString(dst, string(f.Side))
	dst = append(dst, `,"price":`...)
	dst = appendDecimal(dst, f.Price)
	dst = append(dst, `,"qty":`...)
	dst = appendDecimal(dst, f.Qty)
	dst = append(dst, `,"fee":`...)
	dst = appendDecimal(dst, f.Fee)
	dst = append(dst, `,"liquidity":`...)
	dst = appendString(dst, string(f.Liquidity))
	dst = append(dst, `,"realized_pnl":`...)
	dst = appendDecimal(dst, f.RealizedPnL)
	dst = append(dst, `,"trade_seq":`...)
	dst = strconv.AppendUint(dst, f.TradeSeq, 10)
	dst = append(dst, `,"time_ms":`...)
	dst = strconv.AppendInt(dst, f.TimeMs, 10)
	return append(dst, '}')
}

func appendLiquidation(dst []byte, l *Liquidation) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, l.Symbol)
	dst = append(dst, `,"side":`...)
	dst = appendString(dst, string(l.Side))
	dst = append(dst, `,"qty":`...)
	dst = appendDecimal(dst, l.Qty)
	dst = append(dst, `,"mark_price":`...)
	dst = appendDecimal(dst, l.MarkPrice)
	dst = append(dst, `,"liquidation_price":`...)
	dst = appendDecimal(dst, l.LiquidationPrice)
	dst = append(dst, `,"bankruptcy_price":`...)
	dst = appendDecimal(dst, l.BankruptcyPrice)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, string(l.Kind))
	return append(dst, '}')
}

// AppendLiquidationNotice appends n as encoding/json would.
func AppendLiquidationNotice(dst []byte, n *LiquidationNotice) []byte {
	if n == nil {
		return appendNull(dst)
	}
	dst = appendLiquidation(dst, &n.Liquidation)
	dst = append(dst[:len(dst)-1], `,"time_ms":`...) // reopen its object
	dst = strconv.AppendInt(dst, n.TimeMs, 10)
	return append(dst, '}')
}

func appendFunding(dst []byte, f *Funding) []byte {
	dst = append(dst, `{"symbol":`...)
	dst = appendString(dst, f.Symbol)
	dst = append(dst, `,"rate":`...)
	dst = appendDecimal(dst, f.Rate)
	dst = append(dst, `,"payment":`...)
	dst = appendDecimal(dst, f.Payment)
	dst = append(dst, `,"side":`...)
	dst = appendString(dst, string(f.Side))
	dst = append(dst, `,"qty":`...)
	dst = appendDecimal(dst, f.Qty)
	dst = append(dst, `,"mark_price":`...)
	dst = appendDecimal(dst, f.MarkPrice)
	return append(dst, '}')
}

// appendLevels appends levels as [["price","qty"],...], null if nil.
func appendLevels(dst []byte, levels []Level) []byte {
	if levels == nil {
		return appendNull(dst)
	}
	dst = append(dst, '[')
	for i, l := range levels {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendDecimal(dst, l[0])
		dst = append(dst, ',')
		dst = appendDecimal(dst, l[1])
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// appendOmitNil appends key and v unless v is nil (an omitempty pointer);
// key starts with the comma.
func appendOmitNil[T any](dst []byte, key string, v *T, enc func([]byte, *T) []byte) []byte {
	if v == nil {
		return dst
	}
	return enc(append(dst, key...), v)
}

// appendOmitEmpty appends key and s unless s is empty (an omitempty
// string); key starts with the comma.
func appendOmitEmpty(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendString(append(dst, key...), s)
}

func appendNull(dst []byte) []byte { return append(dst, "null"...) }
