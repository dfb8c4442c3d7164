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
	Qty           decimal.Decimal `json:"qty,omitzero"` // absent on close_position
	TIF           TIF             `json:"tif,omitempty"`
	ReduceOnly    bool            `json:"reduce_only,omitempty"`
	PostOnly      bool            `json:"post_only,omitempty"`
	ClientOrderID string          `json:"client_order_id,omitempty"`
	// Conditional orders (Type.Conditional): TriggerPrice for the stop and
	// take-profit types; CallbackRate (percent, 0.1-10 in steps of 0.1) and
	// an optional ActivationPrice for the trailing stop. TriggerBy defaults
	// to mark. ClosePosition closes the whole position at trigger time (no
	// qty; reduce-only).
	TriggerPrice    decimal.Decimal `json:"trigger_price,omitzero"`
	TriggerBy       TriggerBy       `json:"trigger_by,omitempty"`
	CallbackRate    decimal.Decimal `json:"callback_rate,omitzero"`
	ActivationPrice decimal.Decimal `json:"activation_price,omitzero"`
	ClosePosition   bool            `json:"close_position,omitempty"`
	STP             STP             `json:"stp,omitempty"`
}

// Callback rate bounds, in percent (as Binance's callbackRate).
var (
	MinCallbackRate  = decimal.New(1, -1)
	MaxCallbackRate  = decimal.New(10, 0)
	CallbackRateStep = decimal.New(1, -1)
)

// DecodePlace decodes and shape-checks an order. Besides the package rules:
// a limit order needs a price and a market order must not have one; a market
// order is IOC or FOK; post_only needs a GTC limit order; the conditional
// fields go with the conditional types only (see checkPlace); stp defaults
// to DefaultSTP.
func DecodePlace(data []byte) (PlaceOrder, *Error) {
	if p, seen, ok := decodePlaceFast(data); ok {
		return checkPlace(p, seen)
	}
	return decodePlaceSlow(data)
}

// placeSeen records which optional fields an order gave.
type placeSeen struct{ price, qty, trigger, callback, activation, closePosition, reduceOnly bool }

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
	placeTriggerPrice
	placeTriggerBy
	placeCallbackRate
	placeActivationPrice
	placeClosePosition
	placeSTP
	placeFieldCount
)

var orderTypes = []OrderType{Limit, Market, StopMarket, StopLimit, TakeProfitMarket, TakeProfitLimit, TrailingStopMarket}
var triggerSources = []TriggerBy{TriggerMark, TriggerLast, TriggerIndex}

// placeFields is the schema of an order, decoding into p; seen records the
// optional fields given (non-null).
func placeFields(p *PlaceOrder, seen *placeSeen) []field {
	return []field{
		placeSymbol:          {"symbol", true, token(&p.Symbol)},
		placeSide:            {"side", true, enum(&p.Side, Buy, Sell)},
		placeType:            {"type", true, enum(&p.Type, orderTypes...)},
		placePrice:           {"price", false, present(&seen.price, dec(&p.Price))},
		placeQty:             {"qty", false, present(&seen.qty, dec(&p.Qty))},
		placeTIF:             {"tif", false, enum(&p.TIF, GTC, IOC, FOK)},
		placeReduceOnly:      {"reduce_only", false, present(&seen.reduceOnly, boolean(&p.ReduceOnly))},
		placePostOnly:        {"post_only", false, boolean(&p.PostOnly)},
		placeClientOrderID:   {"client_order_id", false, clientID(&p.ClientOrderID)},
		placeTriggerPrice:    {"trigger_price", false, present(&seen.trigger, dec(&p.TriggerPrice))},
		placeTriggerBy:       {"trigger_by", false, enum(&p.TriggerBy, triggerSources...)},
		placeCallbackRate:    {"callback_rate", false, present(&seen.callback, dec(&p.CallbackRate))},
		placeActivationPrice: {"activation_price", false, present(&seen.activation, dec(&p.ActivationPrice))},
		placeClosePosition:   {"close_position", false, present(&seen.closePosition, boolean(&p.ClosePosition))},
		placeSTP:             {"stp", false, enum(&p.STP, STPNone, STPCancelTaker, STPCancelMaker, STPCancelBoth)},
	}
}

var placeSchema = schemaOf(placeFields(new(PlaceOrder), new(placeSeen)))

// decodePlaceSlow is DecodePlace by decodeObject: the reference decoder.
func decodePlaceSlow(data []byte) (PlaceOrder, *Error) {
	var p PlaceOrder
	var seen placeSeen
	if err := decodeObject(data, placeFields(&p, &seen)); err != nil {
		return PlaceOrder{}, err
	}
	return checkPlace(p, seen)
}

// decodePlaceFast is decodePlaceSlow before checkPlace for the inputs the
// flat scanner handles; ok is false for the others.
func decodePlaceFast(data []byte) (p PlaceOrder, seen placeSeen, ok bool) {
	var v [placeFieldCount]flatValue
	ok = placeSchema.scan(data, v[:]) &&
		v[placeSymbol].internedToken(&p.Symbol) &&
		flatEnum(v[placeSide], &p.Side, Buy, Sell) &&
		flatEnum(v[placeType], &p.Type, orderTypes...) &&
		v[placePrice].decimal(&p.Price) &&
		v[placeQty].decimal(&p.Qty) &&
		flatEnum(v[placeTIF], &p.TIF, GTC, IOC, FOK) &&
		v[placeReduceOnly].boolean(&p.ReduceOnly) &&
		v[placePostOnly].boolean(&p.PostOnly) &&
		v[placeClientOrderID].clientID(&p.ClientOrderID) &&
		v[placeTriggerPrice].decimal(&p.TriggerPrice) &&
		flatEnum(v[placeTriggerBy], &p.TriggerBy, triggerSources...) &&
		v[placeCallbackRate].decimal(&p.CallbackRate) &&
		v[placeActivationPrice].decimal(&p.ActivationPrice) &&
		v[placeClosePosition].boolean(&p.ClosePosition) &&
		flatEnum(v[placeSTP], &p.STP, STPNone, STPCancelTaker, STPCancelMaker, STPCancelBoth)
	seen = placeSeen{
		price: v[placePrice].kind != flatAbsent, qty: v[placeQty].kind != flatAbsent,
		trigger: v[placeTriggerPrice].kind != flatAbsent, callback: v[placeCallbackRate].kind != flatAbsent,
		activation: v[placeActivationPrice].kind != flatAbsent, closePosition: v[placeClosePosition].kind != flatAbsent,
		reduceOnly: v[placeReduceOnly].kind != flatAbsent,
	}
	return p, seen, ok
}

// checkPlace applies the order rules that span fields and fills in the
// defaults (TIF, trigger_by, STP).
func checkPlace(p PlaceOrder, seen placeSeen) (PlaceOrder, *Error) {
	if p.STP == "" {
		p.STP = DefaultSTP
	}
	bad := func(format string, args ...any) (PlaceOrder, *Error) {
		return PlaceOrder{}, Errorf(CodeBadRequest, format, args...)
	}
	if p.Type.Limited() {
		if !seen.price {
			return bad(`missing field "price": a %s order needs one`, p.Type)
		}
		if p.Price.Sign() <= 0 {
			return PlaceOrder{}, Errorf(CodeInvalidPrice, "price %s must be positive", p.Price)
		}
		if p.TIF == "" {
			p.TIF = GTC
		}
	} else {
		if seen.price {
			return bad("a %s order takes no price", p.Type)
		}
		switch p.TIF {
		case "":
			p.TIF = IOC
		case GTC:
			return bad("a %s order cannot rest: tif must be IOC or FOK", p.Type)
		}
	}
	if p.PostOnly && (!p.Type.Limited() || p.TIF != GTC) {
		return bad("post_only needs a GTC limit order")
	}
	if e := checkTrigger(&p, seen); e != nil {
		return PlaceOrder{}, e
	}
	if p.ClosePosition {
		if seen.qty {
			return bad("a close_position order takes no qty: it closes the whole position")
		}
		if seen.reduceOnly && !p.ReduceOnly {
			return bad("a close_position order is reduce-only")
		}
		p.ReduceOnly = true
		return p, nil
	}
	if !seen.qty {
		return bad(`missing field "qty"`)
	}
	if p.Qty.Sign() <= 0 {
		return PlaceOrder{}, Errorf(CodeInvalidQty, "qty %s must be positive", p.Qty)
	}
	return p, nil
}

// checkTrigger checks the conditional fields against the type.
func checkTrigger(p *PlaceOrder, seen placeSeen) *Error {
	bad := func(format string, args ...any) *Error { return Errorf(CodeBadRequest, format, args...) }
	if !p.Type.Conditional() {
		for _, f := range []struct {
			name  string
			given bool
		}{{"trigger_price", seen.trigger}, {"trigger_by", p.TriggerBy != ""}, {"callback_rate", seen.callback},
			{"activation_price", seen.activation}, {"close_position", seen.closePosition}} {
			if f.given {
				return bad("%s is for conditional orders, not %s", f.name, p.Type)
			}
		}
		return nil
	}
	if p.TriggerBy == "" {
		p.TriggerBy = TriggerMark
	}
	if p.ClosePosition && p.Type != StopMarket && p.Type != TakeProfitMarket {
		return bad("close_position goes with stop_market and take_profit_market only")
	}
	if p.Type == TrailingStopMarket {
		switch {
		case seen.trigger:
			return bad("a trailing_stop_market order takes no trigger_price: it trails by callback_rate")
		case !seen.callback:
			return bad(`missing field "callback_rate": a trailing stop needs one`)
		case p.CallbackRate.LessThan(MinCallbackRate) || p.CallbackRate.GreaterThan(MaxCallbackRate) ||
			!p.CallbackRate.Mod(CallbackRateStep).IsZero():
			return bad("callback_rate %s must be %s to %s (percent) in steps of %s", p.CallbackRate, MinCallbackRate, MaxCallbackRate, CallbackRateStep)
		case seen.activation && p.ActivationPrice.Sign() <= 0:
			return Errorf(CodeInvalidPrice, "activation_price %s must be positive", p.ActivationPrice)
		}
		return nil
	}
	switch {
	case seen.callback || seen.activation:
		return bad("callback_rate and activation_price are for trailing_stop_market only")
	case !seen.trigger:
		return bad(`missing field "trigger_price": a %s order needs one`, p.Type)
	case p.TriggerPrice.Sign() <= 0:
		return Errorf(CodeInvalidPrice, "trigger_price %s must be positive", p.TriggerPrice)
	}
	return nil
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
		cancelClientOrderID: {"client_order_id", false, clientID(&c.ClientOrderID)},
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
		v[cancelClientOrderID].clientID(&c.ClientOrderID)
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
	// TriggerPrice moves an untriggered stop or take-profit's trigger.
	TriggerPrice decimal.Decimal `json:"trigger_price,omitzero"`
}

// DecodeAmend decodes an amend; a price, qty or trigger_price given ≤ 0 is
// INVALID_PRICE or INVALID_QTY.
func DecodeAmend(data []byte) (Amend, *Error) {
	var a Amend
	var hasPrice, hasQty, hasTrigger bool
	err := decodeObject(data, []field{
		{"symbol", true, token(&a.Symbol)},
		{"order_id", false, token(&a.OrderID)},
		{"client_order_id", false, clientID(&a.ClientOrderID)},
		{"price", false, present(&hasPrice, dec(&a.Price))},
		{"qty", false, present(&hasQty, dec(&a.Qty))},
		{"trigger_price", false, present(&hasTrigger, dec(&a.TriggerPrice))},
	})
	switch {
	case err != nil:
	case (a.OrderID == "") == (a.ClientOrderID == ""):
		err = Errorf(CodeBadRequest, `give exactly one of "order_id" and "client_order_id"`)
	case !hasPrice && !hasQty && !hasTrigger:
		err = Errorf(CodeBadRequest, `give "price", "qty", "trigger_price" or several`)
	case hasTrigger && a.TriggerPrice.Sign() <= 0:
		err = Errorf(CodeInvalidPrice, "trigger_price %s must be positive", a.TriggerPrice)
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

// Resume is the body of <prefix>.admin.resume: the part out of service
// to bring back, as px.admin.audit's failures name it ("symbol-BTC-PERP").
type Resume struct {
	Actor string `json:"actor"`
}

// DecodeResume decodes a resume request; actor is required.
func DecodeResume(data []byte) (Resume, *Error) {
	var r Resume
	if err := decodeObject(data, []field{{"actor", true, token(&r.Actor)}}); err != nil {
		return Resume{}, err
	}
	return r, nil
}

// StateHash is the (empty) body of <prefix>.admin.state_hash.
type StateHash struct{}

// DecodeStateHash accepts {} or an empty payload.
func DecodeStateHash(data []byte) (StateHash, *Error) { return StateHash{}, decodeObject(data, nil) }

// Cluster is the (empty) body of <prefix>.admin.cluster.
type Cluster struct{}

// DecodeCluster accepts {} or an empty payload.
func DecodeCluster(data []byte) (Cluster, *Error) { return Cluster{}, decodeObject(data, nil) }

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

// FundState is the body of <prefix>.fund.state: {} for the newest
// history entries; a page of Limit (default and most MaxFundHistoryPage)
// entries older than BeforeSeq walks back through the rest.
type FundState struct {
	BeforeSeq uint64 `json:"before_seq,omitempty"`
	Limit     int    `json:"limit,omitempty"`
}

// MaxFundHistoryPage is the most fund history entries one reply lists.
const MaxFundHistoryPage = 1000

// DecodeFundState accepts {}, an empty payload or a page request.
func DecodeFundState(data []byte) (FundState, *Error) {
	f := FundState{Limit: MaxFundHistoryPage}
	var before int
	err := decodeObject(data, []field{
		{"before_seq", false, integer(&before, 1, maxTimeMs)},
		{"limit", false, integer(&f.Limit, 1, MaxFundHistoryPage)},
	})
	if err != nil {
		return FundState{}, err
	}
	f.BeforeSeq = uint64(before)
	return f, nil
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
