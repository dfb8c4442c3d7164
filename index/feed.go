package index

import (
	"encoding/json"
	"fmt"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// FeedPrice is one outside feeder message: {"symbol":"BTC-PERP","price":"30000.5"}.
type FeedPrice struct {
	Symbol string
	Price  decimal.Decimal
}

// ParseFeed parses a feeder message (nats:SUBJECT). The price may be a JSON
// string or number, but either way a plain positive decimal (no exponent,
// at most wire.MaxDecimalLen characters). Other fields, such as a feeder's
// timestamp, are ignored: the message comes from a program, not a trader,
// and an unknown field cannot change what a price means.
func ParseFeed(data []byte) (FeedPrice, error) {
	if len(data) > wire.MaxPayload {
		return FeedPrice{}, fmt.Errorf("%w: %d bytes exceed %d", ErrFeed, len(data), wire.MaxPayload)
	}
	var m struct {
		Symbol *string          `json:"symbol"`
		Price  *json.RawMessage `json:"price"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return FeedPrice{}, fmt.Errorf("%w: %v", ErrFeed, err)
	}
	if m.Symbol == nil || m.Price == nil {
		return FeedPrice{}, fmt.Errorf("%w: symbol and price are required", ErrFeed)
	}
	if !wire.ValidToken(*m.Symbol) {
		return FeedPrice{}, fmt.Errorf("%w: symbol %.70q must be 1-%d characters of [A-Za-z0-9_-]", ErrFeed, *m.Symbol, wire.MaxTokenLen)
	}
	raw := string(*m.Price)
	if len(raw) >= 2 && raw[0] == '"' {
		if err := json.Unmarshal(*m.Price, &raw); err != nil {
			return FeedPrice{}, fmt.Errorf("%w: price: %v", ErrFeed, err)
		}
	}
	p, ok := wire.ParseDecimal(raw)
	if !ok || p.Sign() <= 0 {
		return FeedPrice{}, fmt.Errorf("%w: price %.40q is not a positive plain decimal", ErrFeed, raw)
	}
	return FeedPrice{Symbol: *m.Symbol, Price: p}, nil
}
