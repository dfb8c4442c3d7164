package binance

import (
	"strconv"

	"github.com/perpx/perpx/wire"
)

// Binance's names of perpx's enums.
var (
	bnTypes = map[wire.OrderType]string{
		wire.Limit: "LIMIT", wire.Market: "MARKET", wire.StopMarket: "STOP_MARKET", wire.StopLimit: "STOP",
		wire.TakeProfitMarket: "TAKE_PROFIT_MARKET", wire.TakeProfitLimit: "TAKE_PROFIT",
		wire.TrailingStopMarket: "TRAILING_STOP_MARKET",
	}
	pxTypes = map[string]wire.OrderType{
		"LIMIT": wire.Limit, "MARKET": wire.Market, "STOP_MARKET": wire.StopMarket, "STOP": wire.StopLimit,
		"TAKE_PROFIT_MARKET": wire.TakeProfitMarket, "TAKE_PROFIT": wire.TakeProfitLimit,
		"TRAILING_STOP_MARKET": wire.TrailingStopMarket,
	}
	bnStatus = map[wire.Status]string{
		wire.StatusUntriggered: "NEW", wire.StatusTriggered: "NEW", wire.StatusNew: "NEW",
		wire.StatusPartiallyFilled: "PARTIALLY_FILLED", wire.StatusFilled: "FILLED", wire.StatusCanceled: "CANCELED",
		wire.StatusRejected: "REJECTED", wire.StatusExpired: "EXPIRED",
	}
	// An algo order's status: NEW while it waits, TRIGGERING on its way to
	// the book, TRIGGERED once there, FINISHED when that order filled.
	bnAlgoStatus = map[wire.Status]string{
		wire.StatusUntriggered: "NEW", wire.StatusTriggered: "TRIGGERING", wire.StatusNew: "TRIGGERED",
		wire.StatusPartiallyFilled: "TRIGGERED", wire.StatusFilled: "FINISHED", wire.StatusCanceled: "CANCELED",
		wire.StatusRejected: "REJECTED", wire.StatusExpired: "EXPIRED",
	}
	bnSTP = map[wire.STP]string{wire.STPNone: "NONE", wire.STPCancelTaker: "EXPIRE_TAKER",
		wire.STPCancelMaker: "EXPIRE_MAKER", wire.STPCancelBoth: "EXPIRE_BOTH"}
	pxSTP = map[string]wire.STP{"NONE": wire.STPNone, "EXPIRE_TAKER": wire.STPCancelTaker,
		"EXPIRE_MAKER": wire.STPCancelMaker, "EXPIRE_BOTH": wire.STPCancelBoth}
	bnWorking = map[wire.TriggerBy]string{wire.TriggerMark: "MARK_PRICE", wire.TriggerLast: "CONTRACT_PRICE",
		wire.TriggerIndex: "INDEX_PRICE"}
	pxWorking = map[string]wire.TriggerBy{"MARK_PRICE": wire.TriggerMark, "CONTRACT_PRICE": wire.TriggerLast}
)

// bnOrderStatus is o's status as Binance says it: the rest of an order
// that never rests (IOC, FOK, market) is EXPIRED, not CANCELED, as is an
// order the exchange canceled (Binance's for orders it cancels itself:
// canceled_by_bankruptcy), and an order self-trade prevention took is
// EXPIRED_IN_MATCH.
func bnOrderStatus(o *wire.Order) string {
	switch {
	case o.Status != wire.StatusCanceled:
	case o.CanceledBySTP:
		return "EXPIRED_IN_MATCH"
	case o.TIF == wire.IOC || o.TIF == wire.FOK || o.Type == wire.Market || o.CanceledByBankruptcy:
		return "EXPIRED"
	}
	return bnStatus[o.Status]
}

func bnSide(s wire.Side) string {
	if s == wire.Sell {
		return "SELL"
	}
	return "BUY"
}

func bnTIF(o *wire.Order) string {
	switch {
	case o.PostOnly:
		return "GTX"
	case !o.Type.Limited(): // Binance shows its market orders GTC (perpx's are IOC)
		return "GTC"
	}
	return string(o.TIF)
}

// orderID is an order id as Binance's number (perpx's are decimal strings
// well below 2^53, so JavaScript clients read them exactly).
func orderID(id string) uint64 {
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

// cumQuote is what the order's fills were worth: average price × filled.
func cumQuote(o *wire.Order) string { return o.AvgPrice.Mul(o.FilledQty).String() }

// bnOrder is an order as /fapi/v1/order answers.
type bnOrder struct {
	OrderID       uint64 `json:"orderId"`
	Symbol        string `json:"symbol"`
	Status        string `json:"status"`
	ClientOrderID string `json:"clientOrderId"`
	Price         string `json:"price"`
	AvgPrice      string `json:"avgPrice"`
	OrigQty       string `json:"origQty"`
	ExecutedQty   string `json:"executedQty"`
	CumQty        string `json:"cumQty"`
	CumQuote      string `json:"cumQuote"`
	TimeInForce   string `json:"timeInForce"`
	Type          string `json:"type"`
	ReduceOnly    bool   `json:"reduceOnly"`
	ClosePosition bool   `json:"closePosition"`
	Side          string `json:"side"`
	PositionSide  string `json:"positionSide"`
	StopPrice     string `json:"stopPrice"`
	WorkingType   string `json:"workingType"`
	PriceProtect  bool   `json:"priceProtect"`
	OrigType      string `json:"origType"`
	PriceMatch    string `json:"priceMatch"`
	STP           string `json:"selfTradePreventionMode"`
	GoodTillDate  int64  `json:"goodTillDate"`
	ActivatePrice string `json:"activatePrice,omitempty"`
	PriceRate     string `json:"priceRate,omitempty"`
	Time          int64  `json:"time"`
	UpdateTime    int64  `json:"updateTime"`
}

// toOrder is o as Binance shows a regular order. A conditional order that
// fired shows the order it became (MARKET or LIMIT), its own type as
// origType, as Binance's algo service places a plain order when it fires.
func (s *Server) toOrder(o *wire.Order) bnOrder {
	updated := o.UpdatedMs
	t := bnTypes[o.Type]
	orig := t
	if o.Type.Conditional() && o.Status != wire.StatusUntriggered {
		t = "MARKET"
		if o.Type.Limited() {
			t = "LIMIT"
		}
	}
	if updated == 0 {
		updated = o.CreatedMs
	}
	b := bnOrder{
		OrderID: orderID(o.OrderID), Symbol: s.bnName(o.Symbol), Status: bnOrderStatus(o), ClientOrderID: o.ClientOrderID,
		Price: o.Price.String(), AvgPrice: o.AvgPrice.String(), OrigQty: o.Qty.String(), ExecutedQty: o.FilledQty.String(),
		CumQty: o.FilledQty.String(), CumQuote: cumQuote(o), TimeInForce: bnTIF(o), Type: t, ReduceOnly: o.ReduceOnly,
		Side: bnSide(o.Side), PositionSide: "BOTH", OrigType: orig,
		PriceMatch: "NONE", STP: bnSTP[o.STP], Time: o.CreatedMs, UpdateTime: updated,
	}
	b.ClosePosition, b.WorkingType, b.StopPrice, b.PriceRate, b.ActivatePrice = triggerOf(o)
	return b
}

// triggerOf is a conditional order's trigger as Binance's fields: close
// position, working type, trigger price ("0" when none), callback rate and
// activation price ("" unless trailing).
func triggerOf(o *wire.Order) (closePos bool, working, trigger, rate, activation string) {
	tr := o.OrderTrigger
	if tr == nil {
		return false, "CONTRACT_PRICE", "0", "", ""
	}
	trigger = "0"
	if !tr.TriggerPrice.IsZero() {
		trigger = tr.TriggerPrice.String()
	}
	if !tr.CallbackRate.IsZero() {
		rate, activation = tr.CallbackRate.String(), tr.ActivationPrice.String()
	}
	return tr.ClosePosition, bnWorking[tr.TriggerBy], trigger, rate, activation
}

// bnAlgo is a conditional order as /fapi/v1/algoOrder answers.
type bnAlgo struct {
	AlgoID        uint64  `json:"algoId"`
	ClientAlgoID  string  `json:"clientAlgoId"`
	AlgoType      string  `json:"algoType"`
	OrderType     string  `json:"orderType"`
	Symbol        string  `json:"symbol"`
	Side          string  `json:"side"`
	PositionSide  string  `json:"positionSide"`
	TimeInForce   string  `json:"timeInForce"`
	Quantity      string  `json:"quantity"`
	AlgoStatus    string  `json:"algoStatus"`
	TriggerPrice  string  `json:"triggerPrice"`
	Price         string  `json:"price"`
	Iceberg       *string `json:"icebergQuantity"`
	STP           string  `json:"selfTradePreventionMode"`
	WorkingType   string  `json:"workingType"`
	PriceMatch    string  `json:"priceMatch"`
	ClosePosition bool    `json:"closePosition"`
	PriceProtect  bool    `json:"priceProtect"`
	ReduceOnly    bool    `json:"reduceOnly"`
	ActivatePrice string  `json:"activatePrice,omitempty"`
	CallbackRate  string  `json:"callbackRate,omitempty"`
	ActualOrderID string  `json:"actualOrderId"`
	ActualQty     string  `json:"actualQty"`
	ActualPrice   string  `json:"actualPrice"`
	CreateTime    int64   `json:"createTime"`
	UpdateTime    int64   `json:"updateTime"`
	TriggerTime   int64   `json:"triggerTime"`
	GoodTillDate  int64   `json:"goodTillDate"`
}

// algoStatus is o's status as Binance's algo service says it. A canceled
// or expired order that filled some had fired: Binance's FINISHED (its
// triggered order "filled or canceled in the matching engine"); one that
// filled nothing may or may not have fired (ORDER does not say) and stays
// CANCELED (EXPIRED).
func algoStatus(o *wire.Order) string {
	if (o.Status == wire.StatusCanceled || o.Status == wire.StatusExpired) && o.FilledQty.IsPositive() {
		return "FINISHED"
	}
	return bnAlgoStatus[o.Status]
}

// toAlgo is a conditional order as Binance's algo service shows it; the
// order it becomes when it fires keeps its id (actualOrderId).
func (s *Server) toAlgo(o *wire.Order) bnAlgo {
	updated := o.UpdatedMs
	if updated == 0 {
		updated = o.CreatedMs
	}
	b := bnAlgo{
		AlgoID: orderID(o.OrderID), ClientAlgoID: o.ClientOrderID, AlgoType: "CONDITIONAL", OrderType: bnTypes[o.Type],
		Symbol: s.bnName(o.Symbol), Side: bnSide(o.Side), PositionSide: "BOTH", TimeInForce: bnTIF(o), Quantity: o.Qty.String(),
		AlgoStatus: algoStatus(o), Price: o.Price.String(), STP: bnSTP[o.STP],
		PriceMatch: "NONE", ReduceOnly: o.ReduceOnly,
		ActualQty: o.FilledQty.String(), ActualPrice: o.AvgPrice.String(), CreateTime: o.CreatedMs, UpdateTime: updated,
	}
	if o.Status != wire.StatusUntriggered {
		b.ActualOrderID = o.OrderID
		b.TriggerTime = updated
	}
	b.ClosePosition, b.WorkingType, b.TriggerPrice, b.CallbackRate, b.ActivatePrice = triggerOf(o)
	return b
}

// bnTrade is one fill as /fapi/v1/userTrades answers.
type bnTrade struct {
	Buyer           bool   `json:"buyer"`
	Commission      string `json:"commission"`
	CommissionAsset string `json:"commissionAsset"`
	ID              uint64 `json:"id"`
	Maker           bool   `json:"maker"`
	OrderID         uint64 `json:"orderId"`
	Price           string `json:"price"`
	Qty             string `json:"qty"`
	QuoteQty        string `json:"quoteQty"`
	RealizedPnl     string `json:"realizedPnl"`
	Side            string `json:"side"`
	PositionSide    string `json:"positionSide"`
	Symbol          string `json:"symbol"`
	Time            int64  `json:"time"`
}

// toTrade is f as Binance shows an account's trade; its id is the trade's
// sequence in the symbol (px.md.<sym>.trades' seq).
func (s *Server) toTrade(f *wire.Fill) bnTrade {
	return bnTrade{
		Buyer: f.Side == wire.Buy, Commission: f.Fee.String(), CommissionAsset: s.settleOf(f.Symbol), ID: f.TradeSeq,
		Maker: f.Liquidity == wire.Maker, OrderID: orderID(f.OrderID), Price: f.Price.String(), Qty: f.Qty.String(),
		QuoteQty: f.Price.Mul(f.Qty).String(), RealizedPnl: f.RealizedPnL.String(), Side: bnSide(f.Side),
		PositionSide: "BOTH", Symbol: s.bnName(f.Symbol), Time: f.TimeMs,
	}
}

// settleOf is the settlement asset of the exchange's symbol name ("" when
// the face does not serve it).
func (s *Server) settleOf(name string) string {
	if sym, ok := s.syms.byName[name]; ok {
		return sym.settle
	}
	return ""
}

// bnName is the Binance name of an exchange symbol (itself when unmapped).
func (s *Server) bnName(name string) string {
	if sym, ok := s.syms.byName[name]; ok {
		return sym.bn
	}
	return name
}
