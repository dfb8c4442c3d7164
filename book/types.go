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

// OrderType is limit or market. The zero value is Limit.
type OrderType uint8

const (
	Limit OrderType = iota
	// Market orders never rest; Order.Price is their protection bound (the
	// worst price they may trade at), which the caller must supply.
	Market
)

func (t OrderType) String() string {
	switch t {
	case Limit:
		return "limit"
	case Market:
		return "market"
	}
	return "invalid"
}

// TIF is an order's time in force. The zero value is GTC.
type TIF uint8

const (
	GTC TIF = iota // rest what does not fill
	IOC            // fill what can fill now, cancel the rest
	FOK            // fill all now or reject without touching the book
)

func (t TIF) String() string {
	switch t {
	case GTC:
		return "GTC"
	case IOC:
		return "IOC"
	case FOK:
		return "FOK"
	}
	return "invalid"
}

// STPMode says what happens when a taker meets a resting order of its own
// account. The zero value cancels the resting maker.
type STPMode uint8

const (
	STPCancelMaker STPMode = iota // cancel the resting order, keep matching
	STPCancelTaker                // cancel the taker's remainder, leave the maker
	STPCancelBoth                 // cancel the resting order and the taker's remainder
	// STPNone: no prevention; the taker trades with its own resting order
	// like with any other (a fill whose maker and taker are one account).
	STPNone
)

func (m STPMode) String() string {
	switch m {
	case STPCancelMaker:
		return "cancel_maker"
	case STPCancelTaker:
		return "cancel_taker"
	case STPCancelBoth:
		return "cancel_both"
	case STPNone:
		return "none"
	}
	return "invalid"
}

// Order is a request to the book. ID is assigned by the caller and must be
// non-zero and not resting in the book already.
type Order struct {
	ID       OrderID
	Account  AccountID
	ClientID string
	Side     Side
	Type     OrderType
	TIF      TIF
	// Price is the limit price; for a market order it is the protection
	// bound and must be > 0 on both sides.
	Price Ticks
	// Qty is the order's total quantity (filled + open). Amend keeps it
	// equal to the quantity filled so far plus the new open quantity.
	Qty        Lots
	PostOnly   bool // rejected if it would take; GTC limit orders only
	ReduceOnly bool // carried for the risk layer; the book does not act on it
	STP        STPMode
}

// OpenOrder is a resting order as the book holds it.
type OpenOrder struct {
	Order
	Remaining Lots // open quantity
	Filled    Lots // quantity filled since the order was placed
}

// Fill is one match between a taker and a resting maker, always at the
// maker's price.
type Fill struct {
	MakerID, TakerID           OrderID
	MakerAccount, TakerAccount AccountID
	Price                      Ticks
	Qty                        Lots
	TakerSide                  Side
	// MakerRemaining is the maker's open quantity after this fill; 0 means
	// the maker is done (filled) and left the book.
	MakerRemaining Lots
}

// DepthChange is the new total of one price level; Qty 0 means the level
// is gone. A Result lists each level the call changed exactly once, so
// applying them to a copy of the depth reproduces the book's.
type DepthChange struct {
	Side  Side
	Price Ticks
	Qty   Lots
}

// CanceledOrder is an order that was resting before a call and left the
// book during it without being filled: by Cancel, CancelAll, self-trade
// prevention, or an amended order killed by self-trade prevention.
type CanceledOrder struct {
	ID        OrderID
	Account   AccountID
	ClientID  string
	Side      Side
	Price     Ticks
	Remaining Lots // the quantity canceled
	Filled    Lots // what the order had filled before
}

// Level is one price level of a depth snapshot.
type Level struct {
	Price  Ticks
	Qty    Lots
	Orders int
}

// Result is the outcome of one book call. The caller owns it and reuses
// it: every call truncates the slices to length 0 and appends, so a warm
// Result makes matching allocation-free.
type Result struct {
	Code   RejectCode // OK unless the call was rejected (then nothing changed)
	Status Status     // state of the addressed order after the call
	// Filled is the quantity the addressed order filled during this call.
	Filled Lots
	// Remaining is the addressed order's resting quantity after the call
	// (0 unless it rests).
	Remaining Lots
	// STPKilled: self-trade prevention canceled the addressed order's
	// remainder (Status is StatusCanceled), as opposed to an IOC or market
	// remainder dropped for want of liquidity.
	STPKilled bool
	Fills     []Fill
	Depth     []DepthChange
	Canceled  []CanceledOrder
}

// reset empties r field by field: re-slicing in place only stores lengths.
func (r *Result) reset() {
	r.Code, r.Status, r.Filled, r.Remaining, r.STPKilled = OK, StatusNone, 0, 0, false
	r.Fills, r.Depth, r.Canceled = r.Fills[:0], r.Depth[:0], r.Canceled[:0]
}

func (r *Result) reject(c RejectCode) {
	r.Code, r.Status = c, StatusRejected
}

// RejectCode says why a call was refused. The zero value OK means accepted.
type RejectCode uint8

const (
	OK RejectCode = iota
	RejectBadRequest
	RejectInvalidPrice
	RejectInvalidQty
	RejectPostOnlyWouldTake
	RejectFOKNotFilled
	RejectUnknownOrder
	RejectDuplicateOrderID

	numRejectCodes // not a code: the number of codes (RejectCodes)
)

// RejectCodes returns every RejectCode, OK first, so a table keyed by
// RejectCode (a translation into another vocabulary) can be tested for
// completeness.
func RejectCodes() []RejectCode {
	cs := make([]RejectCode, numRejectCodes)
	for i := range cs {
		cs[i] = RejectCode(i)
	}
	return cs
}

// String returns the code's UPPER_SNAKE name, API.md's error code where one
// has that name (the actors translate every code: actors/convert.go).
func (c RejectCode) String() string {
	switch c {
	case OK:
		return "OK"
	case RejectBadRequest:
		return "BAD_REQUEST"
	case RejectInvalidPrice:
		return "INVALID_PRICE"
	case RejectInvalidQty:
		return "INVALID_QTY"
	case RejectPostOnlyWouldTake:
		return "POST_ONLY_WOULD_TAKE"
	case RejectFOKNotFilled:
		return "FOK_NOT_FILLED"
	case RejectUnknownOrder:
		return "UNKNOWN_ORDER"
	case RejectDuplicateOrderID:
		return "DUPLICATE_ORDER_ID"
	}
	return "INTERNAL"
}

// Status is the state of an order after a call, as API.md names it.
type Status uint8

const (
	StatusNone Status = iota // the call addressed no single order
	StatusNew
	StatusPartiallyFilled
	StatusFilled
	StatusCanceled
	StatusRejected
	// StatusExpired: an IOC or market order that filled nothing. One that
	// filled part and dropped the rest is StatusCanceled; an order whose
	// remainder self-trade prevention removed is StatusCanceled too.
	StatusExpired
)

func (s Status) String() string {
	switch s {
	case StatusNone:
		return ""
	case StatusNew:
		return "new"
	case StatusPartiallyFilled:
		return "partially_filled"
	case StatusFilled:
		return "filled"
	case StatusCanceled:
		return "canceled"
	case StatusRejected:
		return "rejected"
	case StatusExpired:
		return "expired"
	}
	return "invalid"
}
