package wire

import "github.com/shopspring/decimal"

// Request defaults and bounds. DefaultAsset is the settlement asset of the
// demo symbols; it is not a request default: a deposit names its asset.
const (
	DefaultAsset       = "USDT"
	DefaultDepthLevels = 20
	MaxDepthLevels     = 1000
)

// PlaceOrder is the body of <prefix>.acct.<acct>.order.place. The account
// comes from the subject only. TIF defaults to GTC for limit orders and IOC
// for market orders.
type PlaceOrder struct {
	Symbol        string          `json:"symbol"`
	Side          Side            `json:"side"`
	Type          OrderType       `json:"type"`
	Price         decimal.Decimal `json:"price,omitzero"`
	Qty           decimal.Decimal `json:"qty"`
	TIF           TIF             `json:"tif,omitempty"`
	ReduceOnly    bool            `json:"reduce_only,omitempty"`
	PostOnly      bool            `json:"post_only,omitempty"`
	ClientOrderID string          `json:"client_order_id,omitempty"`
	STP           STP             `json:"stp,omitempty"`
}

// DecodePlace decodes and shape-checks an order. Besides the package rules:
// a limit order needs a price and a market order must not have one; a market
// order is IOC or FOK; post_only needs a GTC limit order; stp defaults to
// DefaultSTP.
func DecodePlace(data []byte) (PlaceOrder, *Error) {
	if p, hasPrice, ok := decodePlaceFast(data); ok {
		return checkPlace(p, hasPrice)
	}
	return decodePlaceSlow(data)
}

// The fields of an order in the order of the place* indexes.
const (
	placeSymbol = iota
	placeSide
	placeType
	placePrice
	placeQty
	placeTIF
	placeReduceOnly
	placePostOnly
	placeClientOrderID
	placeSTP
	placeFieldCount
)

// placeFields is the schema of an order, decoding into p; hasPrice records
// a non-null price.
func placeFields(p *PlaceOrder, hasPrice *bool) []field {
	return []field{
		placeSymbol:        {"symbol", true, token(&p.Symbol)},
		placeSide:          {"side", true, enum(&p.Side, Buy, Sell)},
		placeType:          {"type", true, enum(&p.Type, Limit, Market)},
		placePrice:         {"price", false, present(hasPrice, dec(&p.Price))},
		placeQty:           {"qty", true, dec(&p.Qty)},
		placeTIF:           {"tif", false, enum(&p.TIF, GTC, IOC, FOK)},
		placeReduceOnly:    {"reduce_only", false, boolean(&p.ReduceOnly)},
		placePostOnly:      {"post_only", false, boolean(&p.PostOnly)},
		placeClientOrderID: {"client_order_id", false, token(&p.ClientOrderID)},
		placeSTP:           {"stp", false, enum(&p.STP, STPNone, STPCancelTaker, STPCancelMaker, STPCancelBoth)},
	}
}

var placeSchema = schemaOf(placeFields(new(PlaceOrder), new(bool)))

// decodePlaceSlow is DecodePlace by decodeObject: the reference decoder.
func decodePlaceSlow(data []byte) (PlaceOrder, *Error) {
	var p PlaceOrder
	var hasPrice bool
	if err := decodeObject(data, placeFields(&p, &hasPrice)); err != nil {
		return PlaceOrder{}, err
	}
	return checkPlace(p, hasPrice)
}

// decodePlaceFast is decodePlaceSlow before checkPlace for the inputs the
// flat scanner handles; ok is false for the others.
func decodePlaceFast(data []byte) (p PlaceOrder, hasPrice, ok bool) {
	var v [placeFieldCount]flatValue
	ok = placeSchema.scan(data, v[:]) &&
		v[placeSymbol].internedToken(&p.Symbol) &&
		flatEnum(v[placeSide], &p.Side, Buy, Sell) &&
		flatEnum(v[placeType], &p.Type, Limit, Market) &&
		v[placePrice].decimal(&p.Price) &&
		v[placeQty].decimal(&p.Qty) &&
		flatEnum(v[placeTIF], &p.TIF, GTC, IOC, FOK) &&
		v[placeReduceOnly].boolean(&p.ReduceOnly) &&
		v[placePostOnly].boolean(&p.PostOnly) &&
		v[placeClientOrderID].token(&p.ClientOrderID) &&
		flatEnum(v[placeSTP], &p.STP, STPNone, STPCancelTaker, STPCancelMaker, STPCancelBoth)
	return p, v[placePrice].kind != flatAbsent, ok
}

// checkPlace applies the order rules that span fields and fills in the
// default TIF and STP.
func checkPlace(p PlaceOrder, hasPrice bool) (PlaceOrder, *Error) {
	switch p.Type {
	case Limit:
		if !hasPrice {
			return PlaceOrder{}, Errorf(CodeBadRequest, `missing field "price": a limit order needs one`)
		}
		if p.Price.Sign() <= 0 {
			return PlaceOrder{}, Errorf(CodeInvalidPrice, "price %s must be positive", p.Price)
		}
		if p.TIF == "" {
			p.TIF = GTC
		}
	case Market:
		if hasPrice {
			return PlaceOrder{}, Errorf(CodeBadRequest, "a market order takes no price")
		}
		switch p.TIF {
		case "":
			p.TIF = IOC
		case GTC:
			return PlaceOrder{}, Errorf(CodeBadRequest, "a market order cannot rest: tif must be IOC or FOK")
		}
	}
	if p.PostOnly && (p.Type != Limit || p.TIF != GTC) {
		return PlaceOrder{}, Errorf(CodeBadRequest, "post_only needs a GTC limit order")
	}
	if p.Qty.Sign() <= 0 {
		return PlaceOrder{}, Errorf(CodeInvalidQty, "qty %s must be positive", p.Qty)
	}
	if p.STP == "" {
		p.STP = DefaultSTP
	}
	return p, nil
}

// Cancel is the body of <prefix>.acct.<acct>.order.cancel: exactly one of
// OrderID and ClientOrderID.
type Cancel struct {
	Symbol        string `json:"symbol"`
	OrderID       string `json:"order_id,omitempty"`
	ClientOrderID string `json:"client_order_id,omitempty"`
}

// CancelAll is the body of <prefix>.acct.<acct>.order.cancel_all: every
// open order of the account, or only those in Symbol when it is set.
type CancelAll struct {
	Symbol string `json:"symbol,omitempty"`
}

// DecodeCancelAll accepts {}, an empty payload or {"symbol":..}; a symbol
// of null, like a body of whitespace, is BAD_REQUEST, never "all symbols".
func DecodeCancelAll(data []byte) (CancelAll, *Error) {
	sym, err := decodeSymbolFilter(data)
	return CancelAll{Symbol: sym}, err
}

// MaxCancelAfterMs is the longest dead man's switch countdown: an hour.
const MaxCancelAfterMs = 3_600_000

// CancelAllAfter is the body of <prefix>.acct.<acct>.order.cancel_all_after:
// unless the next such request comes within TimeoutMs, every open order of
// the account is canceled; 0 disarms the switch.
type CancelAllAfter struct {
	TimeoutMs int `json:"timeout_ms"`
}

// DecodeCancelAllAfter decodes a dead man's switch request.
func DecodeCancelAllAfter(data []byte) (CancelAllAfter, *Error) {
	var c CancelAllAfter
	if err := decodeObject(data, []field{{"timeout_ms", true, integer(&c.TimeoutMs, 0, MaxCancelAfterMs)}}); err != nil {
		return CancelAllAfter{}, err
	}
	return c, nil
}

// DecodeCancel decodes a cancel request.
func DecodeCancel(data []byte) (Cancel, *Error) {
	if c, ok := decodeCancelFast(data); ok {
		return checkCancel(c)
	}
	return decodeCancelSlow(data)
}

// The fields of a cancel in the order of the cancel* indexes.
const (
	cancelSymbol = iota
	cancelOrderID
	cancelClientOrderID
	cancelFieldCount
)

func cancelFields(c *Cancel) []field {
	return []field{
		cancelSymbol:        {"symbol", true, token(&c.Symbol)},
		cancelOrderID:       {"order_id", false, token(&c.OrderID)},
		cancelClientOrderID: {"client_order_id", false, token(&c.ClientOrderID)},
	}
}

var cancelSchema = schemaOf(cancelFields(new(Cancel)))

// decodeCancelSlow is DecodeCancel by decodeObject: the reference decoder.
func decodeCancelSlow(data []byte) (Cancel, *Error) {
	var c Cancel
	if err := decodeObject(data, cancelFields(&c)); err != nil {
		return Cancel{}, err
	}
	return checkCancel(c)
}

// decodeCancelFast is decodeCancelSlow before checkCancel for the inputs
// the flat scanner handles; ok is false for the others.
func decodeCancelFast(data []byte) (c Cancel, ok bool) {
	var v [cancelFieldCount]flatValue
	ok = cancelSchema.scan(data, v[:]) &&
		v[cancelSymbol].internedToken(&c.Symbol) &&
		v[cancelOrderID].token(&c.OrderID) &&
		v[cancelClientOrderID].token(&c.ClientOrderID)
	return c, ok
}

func checkCancel(c Cancel) (Cancel, *Error) {
	if (c.OrderID == "") == (c.ClientOrderID == "") {
		return Cancel{}, Errorf(CodeBadRequest, `give exactly one of "order_id" and "client_order_id"`)
	}
	return c, nil
}

// Amend is the body of <prefix>.acct.<acct>.order.amend: exactly one of
// OrderID and ClientOrderID, and Price (the new limit price), Qty (the new
// total quantity: filled + open) or both. A zero Price or Qty was not
// given: the order keeps it.
type Amend struct {
	Symbol        string          `json:"symbol"`
	OrderID       string          `json:"order_id,omitempty"`
	ClientOrderID string          `json:"client_order_id,omitempty"`
	Price         decimal.Decimal `json:"price,omitzero"`
	Qty           decimal.Decimal `json:"qty,omitzero"`
}

// DecodeAmend decodes an amend; a price or qty given ≤ 0 is INVALID_PRICE
// or INVALID_QTY.
func DecodeAmend(data []byte) (Amend, *Error) {
	var a Amend
	var hasPrice, hasQty bool
	err := decodeObject(data, []field{
		{"symbol", true, token(&a.Symbol)},
		{"order_id", false, token(&a.OrderID)},
		{"client_order_id", false, token(&a.ClientOrderID)},
		{"price", false, present(&hasPrice, dec(&a.Price))},
		{"qty", false, present(&hasQty, dec(&a.Qty))},
	})
	switch {
	case err != nil:
	case (a.OrderID == "") == (a.ClientOrderID == ""):
		err = Errorf(CodeBadRequest, `give exactly one of "order_id" and "client_order_id"`)
	case !hasPrice && !hasQty:
		err = Errorf(CodeBadRequest, `give "price", "qty" or both`)
	case hasPrice && a.Price.Sign() <= 0:
		err = Errorf(CodeInvalidPrice, "price %s must be positive", a.Price)
	case hasQty && a.Qty.Sign() <= 0:
		err = Errorf(CodeInvalidQty, "qty %s must be positive", a.Qty)
	}
	if err != nil {
		return Amend{}, err
	}
	return a, nil
}

// Leverage is the body of <prefix>.acct.<acct>.leverage.
type Leverage struct {
	Symbol   string          `json:"symbol"`
	Leverage decimal.Decimal `json:"leverage"`
}

// DecodeLeverage decodes a leverage change. Below 1 is BAD_REQUEST (it is
// not a leverage); the symbol's maximum is risk's LEVERAGE_TOO_HIGH.
func DecodeLeverage(data []byte) (Leverage, *Error) {
	var l Leverage
	err := decodeObject(data, []field{
		{"symbol", true, token(&l.Symbol)},
		{"leverage", true, dec(&l.Leverage)},
	})
	if err == nil && l.Leverage.LessThan(decimal.NewFromInt(1)) {
		err = Errorf(CodeBadRequest, "leverage %s must be at least 1", l.Leverage)
	}
	if err != nil {
		return Leverage{}, err
	}
	return l, nil
}

// State is the body of <prefix>.acct.<acct>.state: {} for the whole
// account, or a Symbol to list only that symbol's position and open orders.
type State struct {
	Symbol string `json:"symbol,omitempty"`
}

// DecodeState accepts {}, an empty payload or {"symbol":..}.
func DecodeState(data []byte) (State, *Error) {
	sym, err := decodeSymbolFilter(data)
	return State{Symbol: sym}, err
}

// decodeSymbolFilter decodes a body whose one, optional field is a symbol.
func decodeSymbolFilter(data []byte) (string, *Error) {
	var sym string
	if err := decodeObject(data, []field{{"symbol", false, token(&sym)}}); err != nil {
		return "", err
	}
	return sym, nil
}

// Deposit is the body of <prefix>.admin.deposit. Every field is required:
// the asset is never implied (once symbols settle in more than one asset, a
// default would credit the wrong one). An amount of 0 is allowed and just
// reports the balance.
type Deposit struct {
	Account string          `json:"account"`
	Asset   string          `json:"asset"`
	Amount  decimal.Decimal `json:"amount"`
}

// DecodeDeposit decodes a deposit; a negative amount is BAD_REQUEST.
func DecodeDeposit(data []byte) (Deposit, *Error) {
	var d Deposit
	err := decodeObject(data, []field{
		{"account", true, token(&d.Account)},
		{"asset", true, token(&d.Asset)},
		{"amount", true, dec(&d.Amount)},
	})
	if err == nil {
		err = nonNegative("amount", d.Amount)
	}
	if err != nil {
		return Deposit{}, err
	}
	return d, nil
}

// IndexSet is the body of <prefix>.admin.index.<sym>.
type IndexSet struct {
	Price decimal.Decimal `json:"price"`
}

// DecodeIndexSet decodes an index move; a price ≤ 0 is INVALID_PRICE.
func DecodeIndexSet(data []byte) (IndexSet, *Error) {
	var x IndexSet
	err := decodeObject(data, []field{{"price", true, dec(&x.Price)}})
	if err == nil && x.Price.Sign() <= 0 {
		err = Errorf(CodeInvalidPrice, "price %s must be positive", x.Price)
	}
	if err != nil {
		return IndexSet{}, err
	}
	return x, nil
}

// FundDeposit is the body of <prefix>.admin.fund.deposit: asset and amount
// are required, as for Deposit; amount 0 just reports the balance.
type FundDeposit struct {
	Asset  string          `json:"asset"`
	Amount decimal.Decimal `json:"amount"`
}

// DecodeFundDeposit decodes a fund deposit; a negative amount is BAD_REQUEST.
func DecodeFundDeposit(data []byte) (FundDeposit, *Error) {
	var f FundDeposit
	err := decodeObject(data, []field{
		{"asset", true, token(&f.Asset)},
		{"amount", true, dec(&f.Amount)},
	})
	if err == nil {
		err = nonNegative("amount", f.Amount)
	}
	if err != nil {
		return FundDeposit{}, err
	}
	return f, nil
}

// Audit is the (empty) body of <prefix>.admin.audit.
type Audit struct{}

// DecodeAudit accepts {} or an empty payload.
func DecodeAudit(data []byte) (Audit, *Error) { return Audit{}, decodeObject(data, nil) }

// StateHash is the (empty) body of <prefix>.admin.state_hash.
type StateHash struct{}

// DecodeStateHash accepts {} or an empty payload.
func DecodeStateHash(data []byte) (StateHash, *Error) { return StateHash{}, decodeObject(data, nil) }

// Depth is the body of <prefix>.md.<sym>.depth: levels per side, 1 to
// MaxDepthLevels, default DefaultDepthLevels.
type Depth struct {
	Levels int `json:"levels,omitempty"`
}

// DecodeDepth decodes a depth snapshot request.
func DecodeDepth(data []byte) (Depth, *Error) {
	d := Depth{Levels: DefaultDepthLevels}
	if err := decodeObject(data, []field{{"levels", false, integer(&d.Levels, 1, MaxDepthLevels)}}); err != nil {
		return Depth{}, err
	}
	return d, nil
}

// FundState is the (empty) body of <prefix>.fund.state.
type FundState struct{}

// DecodeFundState accepts {} or an empty payload.
func DecodeFundState(data []byte) (FundState, *Error) {
	return FundState{}, decodeObject(data, nil)
}

// ADLQueue is the body of <prefix>.adl.<sym>.queue.
type ADLQueue struct {
	Side PosSide `json:"side"`
}

// DecodeADLQueue decodes an ADL queue request.
func DecodeADLQueue(data []byte) (ADLQueue, *Error) {
	var q ADLQueue
	if err := decodeObject(data, []field{{"side", true, enum(&q.Side, Long, Short)}}); err != nil {
		return ADLQueue{}, err
	}
	return q, nil
}

func nonNegative(name string, d decimal.Decimal) *Error {
	if d.Sign() < 0 {
		return Errorf(CodeBadRequest, "%s %s must not be negative", name, d)
	}
	return nil
}
