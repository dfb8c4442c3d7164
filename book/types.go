package book

// Value types shared with the risk, fund and ADL cores. Prices and quantities
// are integers: a price is a count of ticks, a quantity a count of lots; the
// symbol's config (package market) maps them to decimals at the edges.

// Side of an order or of the taker in a fill.
type Side uint8

const (
	Buy  Side = 1
	Sell Side = 2
)

// Opposite returns the other side.
func (s Side) Opposite() Side { return 3 - s }

func (s Side) String() string {
	switch s {
	case Buy:
		return "buy"
	case Sell:
		return "sell"
	}
	return "invalid"
}

// Sign is +1 for Buy and -1 for Sell: the direction a fill moves a position.
func (s Side) Sign() int64 {
	if s == Buy {
		return 1
	}
	return -1
}

// Ticks is a price as an integer count of the symbol's tick size.
type Ticks int64

// Lots is a quantity as an integer count of the symbol's lot size.
type Lots int64

// OrderID identifies an order inside one book; assigned by the caller (risk
// layer), unique per book.
type OrderID uint64

// AccountID is an account interned to an integer by the layer above, so the
// book never handles strings on its hot path.
type AccountID uint64
