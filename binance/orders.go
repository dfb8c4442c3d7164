package binance

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"time"

	"github.com/perpx/perpx/wire"
	"github.com/shopspring/decimal"
)

// The order endpoints. A plain order is one order.place; conditional
// types are Binance's algo orders (algo.go), refused here with -4120 as
// Binance does since its algo service took them over.

// side reads the side parameter, BUY or SELL.
func (c *call) side() (wire.Side, *apiError) {
	v, e := c.need("side")
	if e != nil {
		return "", e
	}
	switch v {
	case "BUY":
		return wire.Buy, nil
	case "SELL":
		return wire.Sell, nil
	}
	return "", errf(400, codeBadSide, "Invalid side.")
}

// placeParams reads an order's parameters as /fapi/v1/order (algo false)
// or /fapi/v1/algoOrder (algo true) take them.
func (c *call) placeParams(algo bool) (*symbol, wire.PlaceOrder, *apiError) {
	var p wire.PlaceOrder
	sym, e := c.symbol(true)
	if e != nil {
		return nil, p, e
	}
	p.Symbol = sym.name
	if p.Side, e = c.side(); e != nil {
		return nil, p, e
	}
	if ps, given := c.str("positionSide"); given && ps != "BOTH" {
		return nil, p, errf(400, codePositionSide, "Order's position side does not match user's setting.")
	}
	if algo {
		if at, e := c.need("algoType"); e != nil {
			return nil, p, e
		} else if at != "CONDITIONAL" {
			return nil, p, badData("algoType")
		}
	}
	typ, e := c.need("type")
	if e != nil {
		return nil, p, e
	}
	t, known := pxTypes[typ]
	switch {
	case !known || algo && !t.Conditional():
		return nil, p, errf(400, codeBadType, "Invalid orderType.")
	case !algo && t.Conditional():
		return nil, p, errf(400, codeUseAlgo, "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.")
	}
	p.Type = t
	if e := c.placeTIF(&p); e != nil {
		return nil, p, e
	}
	if e := c.placeSizes(&p); e != nil {
		return nil, p, e
	}
	if e := c.placeTrigger(&p); e != nil {
		return nil, p, e
	}
	if p.ReduceOnly, e = c.boolean("reduceOnly"); e != nil {
		return nil, p, e
	}
	if _, e = c.boolean("priceProtect"); e != nil {
		return nil, p, e
	}
	idParam := "newClientOrderId"
	if algo {
		idParam = "clientAlgoId"
	}
	if p.ClientOrderID, e = c.clientID(idParam); e != nil {
		return nil, p, e
	}
	if v, given := c.str("selfTradePreventionMode"); given {
		stp, ok := pxSTP[v]
		if !ok {
			return nil, p, errf(400, codeBadSTP, "Invalid self trade prevention mode")
		}
		p.STP = stp
	}
	if v, given := c.str("priceMatch"); given && v != "NONE" {
		return nil, p, errf(400, codeBadPriceMatch, "Invalid price match: perpx matches at the order's price only")
	}
	if _, given := c.str("goodTillDate"); given {
		return nil, p, notRequired("goodTillDate")
	}
	if v, given := c.str("newOrderRespType"); given && v != "ACK" && v != "RESULT" {
		return nil, p, errf(400, codeBadRespType, "Invalid newOrderRespType")
	}
	return sym, p, nil
}

// placeTIF: GTX is a post-only GTC order; an order that never rests takes
// IOC (the exchange's default) unless it says FOK.
func (c *call) placeTIF(p *wire.PlaceOrder) *apiError {
	v, given := c.str("timeInForce")
	if !given {
		return nil
	}
	switch v {
	case "GTC", "IOC", "FOK":
	case "GTX":
		if !p.Type.Limited() {
			return errf(400, codeBadTIF, "Invalid timeInForce.")
		}
		p.PostOnly, v = true, "GTC"
	default:
		return errf(400, codeBadTIF, "Invalid timeInForce.")
	}
	if !p.Type.Limited() && v == "GTC" {
		return nil // Binance ignores a market order's GTC
	}
	p.TIF = wire.TIF(v)
	return nil
}

// placeSizes reads quantity, price and closePosition.
func (c *call) placeSizes(p *wire.PlaceOrder) *apiError {
	closePos, e := c.boolean("closePosition")
	if e != nil {
		return e
	}
	if closePos {
		if p.Type != wire.StopMarket && p.Type != wire.TakeProfitMarket {
			return badData("closePosition")
		}
		p.ClosePosition = true
	}
	q, given, e := c.decimal("quantity")
	if e != nil {
		return e
	}
	switch {
	case closePos && given && !q.IsZero():
		return errf(400, -4137, "Quantity must be zero with closePosition equals true")
	case !closePos && !given:
		return mandatory("quantity")
	case !closePos:
		p.Qty = q
	}
	price, given, e := c.decimal("price")
	if e != nil {
		return e
	}
	switch {
	case p.Type.Limited() && !given:
		return mandatory("price")
	case p.Type.Limited():
		p.Price = price
	case given && !price.IsZero():
		return notRequired("price")
	}
	return nil
}

// placeTrigger reads a conditional order's trigger: triggerPrice (or
// stopPrice), workingType (CONTRACT_PRICE, Binance's default, is the last
// trade), callbackRate and activatePrice (or activationPrice).
func (c *call) placeTrigger(p *wire.PlaceOrder) *apiError {
	if !p.Type.Conditional() {
		return nil
	}
	p.TriggerBy = wire.TriggerLast
	if v, given := c.str("workingType"); given {
		by, ok := pxWorking[v]
		if !ok {
			return errf(400, -4031, "Invalid parameter working type")
		}
		p.TriggerBy = by
	}
	if p.Type == wire.TrailingStopMarket {
		rate, given, e := c.decimal("callbackRate")
		if e != nil {
			return e
		}
		if !given {
			return mandatory("callbackRate")
		}
		p.CallbackRate = rate
		name := "activatePrice"
		if _, given := c.str(name); !given {
			name = "activationPrice"
		}
		act, _, e := c.decimal(name)
		if e != nil {
			return e
		}
		p.ActivationPrice = act
		return nil
	}
	name := "triggerPrice"
	if _, given := c.str(name); !given {
		name = "stopPrice"
	}
	tp, given, e := c.decimal(name)
	if e != nil {
		return e
	}
	if !given {
		return mandatory("triggerPrice")
	}
	p.TriggerPrice = tp
	return nil
}

// clientID is the order's client id: the parameter's, else one made up
// (Binance gives every order one, so origClientOrderId always works).
func (c *call) clientID(param string) (string, *apiError) {
	v, given := c.str(param)
	if !given {
		v, given = c.str("newClientOrderId")
	}
	if !given {
		return "px-" + rand.Text()[:22], nil
	}
	if !wire.ValidClientID(v) || len(v) > 36 {
		return "", errf(400, codeBadClientID, "Client order id is not valid: 1-36 characters of [A-Za-z0-9_.:/-].")
	}
	return v, nil
}

func (c *call) newOrder() (any, *apiError) {
	_, p, e := c.placeParams(false)
	if e != nil {
		return nil, e
	}
	oc := ctxOther
	if p.Type == wire.Market {
		oc = ctxMarket
	}
	o, e := c.s.orderRequest(c.ctx, c.s.subj.OrderPlace(c.account), p, oc)
	if e != nil {
		return nil, e
	}
	return c.s.toOrder(o), nil
}

// orderRequest sends a request answered by one order (place, cancel).
func (s *Server) orderRequest(ctx context.Context, subject string, req any, oc orderCtx) (*wire.Order, *apiError) {
	var rep wire.OrderReply
	if e := s.request(ctx, subject, req, &rep, oc); e != nil {
		return nil, e
	}
	if rep.Order == nil {
		return nil, errf(500, codeUnknown, "The exchange's order reply has no order.")
	}
	return rep.Order, nil
}

// orderRef is the order a request names: orderId or origClientOrderId
// (idName and cidName, the algo endpoints' names differ).
func (c *call) orderRef(idName, cidName string) (id, cid string, e *apiError) {
	if v, given := c.str(idName); given {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return "", "", illegal(idName, "^[0-9]{1,20}$")
		}
		// The id as the exchange writes it: openOrder compares it as text,
		// so 007 must be 7 there as it is to the exchange.
		return strconv.FormatUint(n, 10), "", nil
	}
	if v, given := c.str(cidName); given {
		if !wire.ValidClientID(v) {
			return "", "", errNoSuchOrder
		}
		return "", v, nil
	}
	return "", "", errf(400, codeMandatory, "Either %s or %s must be sent.", idName, cidName)
}

// lookup reads the order id or cid names, open or closed (oc: an unknown
// one is -2013 to a query, -2011 to a cancel). It asks order.query, not
// orders: on the order requests' subscription, the only order NATS keeps,
// it cannot overtake a place or cancel this face sent before it
// (TestLookupFollowsPlace).
func (c *call) lookup(id, cid string, oc orderCtx) (*wire.Order, *apiError) {
	var rep wire.OrdersReply
	if e := c.s.request(c.ctx, c.s.subj.OrderQuery(c.account), wire.Orders{OrderID: id, ClientOrderID: cid}, &rep, oc); e != nil {
		return nil, e
	}
	if len(rep.Orders) == 0 { // the exchange says UNKNOWN_ORDER
		return nil, errf(500, codeUnknown, "The exchange's order lookup reply has no order.")
	}
	return &rep.Orders[0], nil
}

// findOrder reads one order, open or closed, of sym.
func (c *call) findOrder(sym *symbol, id, cid string) (*wire.Order, *apiError) {
	o, e := c.lookup(id, cid, ctxQuery)
	if e != nil {
		return nil, e
	}
	if o.Symbol != sym.name {
		return nil, errNoSuchOrder
	}
	return o, nil
}

// symbolOrder is the symbol and the order (orderId or origClientOrderId)
// a request names.
func (c *call) symbolOrder() (sym *symbol, id, cid string, e *apiError) {
	if sym, e = c.symbol(true); e != nil {
		return nil, "", "", e
	}
	id, cid, e = c.orderRef("orderId", "origClientOrderId")
	return sym, id, cid, e
}

func (c *call) queryOrder() (any, *apiError) {
	sym, id, cid, e := c.symbolOrder()
	if e != nil {
		return nil, e
	}
	o, e := c.findOrder(sym, id, cid)
	if e != nil {
		return nil, e
	}
	if o.Status == wire.StatusUntriggered { // an algo order until it fires
		return nil, errNoSuchOrder
	}
	return c.s.toOrder(o), nil
}

// modify is an amend as PUT /fapi/v1/order (and each item of PUT
// batchOrders) says it: the order, its side, and the new price and total
// quantity, both required.
type modify struct {
	sym     *symbol
	id, cid string
	side    wire.Side
	a       wire.Amend
}

func (c *call) modifyParams() (m modify, e *apiError) {
	if m.sym, m.id, m.cid, e = c.symbolOrder(); e != nil {
		return m, e
	}
	if m.side, e = c.side(); e != nil {
		return m, e
	}
	for _, f := range []struct {
		name string
		v    *decimal.Decimal
	}{{"quantity", &m.a.Qty}, {"price", &m.a.Price}} {
		v, given, e := c.decimal(f.name)
		if e != nil {
			return m, e
		}
		if !given {
			return m, mandatory(f.name)
		}
		*f.v = v
	}
	return m, nil
}

// check refuses what Binance refuses of modifying o (nil: not found) so;
// otherwise it names o in the amend.
func (m *modify) check(o *wire.Order) *apiError {
	switch {
	case o == nil || o.Status != wire.StatusNew && o.Status != wire.StatusPartiallyFilled:
		return errNoSuchOrder
	case o.Type != wire.Limit:
		return errf(400, codeBadType, "Invalid orderType: only LIMIT orders can be modified.")
	case o.Side != m.side:
		return badData("side")
	case o.Price.Equal(m.a.Price) && o.Qty.Equal(m.a.Qty):
		return errf(400, codeNoModify, "No need to modify the order.")
	}
	m.a.Symbol, m.a.OrderID = m.sym.name, o.OrderID
	return nil
}

// modifyOrder is PUT /fapi/v1/order (ccxt's editOrder): an open limit
// order's new price and quantity (the total, filled part included), both
// required, and its side, which must be the order's. It is perpx's
// order.amend: a smaller quantity at the same price keeps the order's
// place in the queue.
func (c *call) modifyOrder() (any, *apiError) {
	m, e := c.modifyParams()
	if e != nil {
		return nil, e
	}
	o, e := c.findOrder(m.sym, m.id, m.cid)
	if e != nil {
		return nil, e
	}
	if e := m.check(o); e != nil {
		return nil, e
	}
	res, e := c.s.orderRequest(c.ctx, c.s.subj.OrderAmend(c.account), m.a, ctxQuery)
	if e != nil {
		return nil, e
	}
	return c.s.toOrder(res), nil
}

// cancel cancels one order (plain or conditional) and answers it.
func (c *call) cancel(sym *symbol, id, cid string) (*wire.Order, *apiError) {
	req := wire.Cancel{Symbol: sym.name, OrderID: id, ClientOrderID: cid}
	return c.s.orderRequest(c.ctx, c.s.subj.OrderCancel(c.account), req, ctxCancel)
}

// algoOpen is sym's untriggered conditional orders: Binance's algo
// orders, which v1/order's cancels do not reach (-2011, as for any id of
// no plain order; GET v1/order does not see them either). DELETE
// v1/algoOrder cancels them (ccxt's cancelOrder with trigger: true).
func (c *call) algoOpen(sym *symbol) ([]wire.Order, *apiError) { return c.openOf(sym, true) }

// errCancelAlgo refuses a v1/order cancel of an algo order.
func errCancelAlgo() *apiError {
	return errf(400, codeCancelRejected, "Unknown order sent. (an untriggered conditional order: cancel it by DELETE /fapi/v1/algoOrder)")
}

// findIn is the order of os that id or cid names, nil if none.
func findIn(os []wire.Order, id, cid string) *wire.Order {
	for i := range os {
		if id != "" && os[i].OrderID == id || cid != "" && os[i].ClientOrderID == cid {
			return &os[i]
		}
	}
	return nil
}

func (c *call) cancelOrder() (any, *apiError) {
	sym, id, cid, e := c.symbolOrder()
	if e != nil {
		return nil, e
	}
	// Looked up rather than read from state: a lookup cannot overtake the
	// algo order's place. Unknown here is unknown to the cancel too.
	o, e := c.lookup(id, cid, ctxCancel)
	if e != nil {
		return nil, e
	}
	if o.Symbol == sym.name && o.Status == wire.StatusUntriggered {
		return nil, errCancelAlgo()
	}
	o, e = c.cancel(sym, id, cid)
	if e != nil {
		return nil, e
	}
	return c.s.toOrder(o), nil
}

// open is the account's open orders (of sym when not nil). It asks
// order.open, not state: on the order requests' subscription it cannot
// overtake a place this face sent before it, so a cancel-all or a list
// right behind a place sees it (TestListsFollowPlace).
func (c *call) open(sym *symbol) ([]wire.Order, *apiError) {
	req := wire.State{}
	if sym != nil {
		req.Symbol = sym.name
	}
	var rep wire.OrdersReply
	if e := c.s.request(c.ctx, c.s.subj.OrderOpen(c.account), req, &rep, ctxOther); e != nil {
		return nil, e
	}
	return rep.Orders, nil
}

// openOf is the account's open orders (of sym when not nil); algo picks
// the untriggered conditional ones, else the others.
func (c *call) openOf(sym *symbol, algo bool) ([]wire.Order, *apiError) {
	os, e := c.open(sym)
	if e != nil {
		return nil, e
	}
	out := make([]wire.Order, 0, len(os))
	for _, o := range os {
		if (o.Status == wire.StatusUntriggered) == algo {
			out = append(out, o)
		}
	}
	return out, nil
}

func (c *call) openOrders() (any, *apiError) {
	sym, e := c.symbol(false)
	if e != nil {
		return nil, e
	}
	os, e := c.openOf(sym, false)
	if e != nil {
		return nil, e
	}
	out := make([]bnOrder, len(os))
	for i := range os {
		out[i] = c.s.toOrder(&os[i])
	}
	return out, nil
}

func (c *call) openOrder() (any, *apiError) {
	sym, id, cid, e := c.symbolOrder()
	if e != nil {
		return nil, e
	}
	o, e := c.findOrder(sym, id, cid)
	if e != nil {
		return nil, e
	}
	switch o.Status {
	case wire.StatusNew, wire.StatusPartiallyFilled, wire.StatusTriggered: // open, not an algo order
		return c.s.toOrder(o), nil
	}
	return nil, errNoSuchOrder
}

// batchReply answers order.batch: one reply per item.
type batchReply struct {
	wire.Reply
	Results []wire.OrderReply `json:"results"`
}

// batchItem is one item of order.batch: {"place":{..}} or {"cancel":{..}}.
type batchItem map[string]any

func cancelItem(sym *symbol, id, cid string) batchItem {
	return batchItem{"cancel": wire.Cancel{Symbol: sym.name, OrderID: id, ClientOrderID: cid}}
}

// batchChunk is how many items one order.batch carries: 20 (its most),
// or the rate-limit bucket when that is smaller, since a batch takes one
// token per item, all or none, and one larger than the bucket never fits.
func (s *Server) batchChunk() int {
	n := wire.MaxBatchItems
	if rl := s.cfg.RateLimit; rl.Enabled() {
		n = min(n, rl.BucketSize())
	}
	return n
}

// sendBatch sends items as account's order.batch, in chunks of batchChunk,
// in order, and returns their replies, one per item, until a chunk fails as
// a whole: then that error too, with the replies of the chunks before. With
// refill a chunk refused for the rate limit is sent again once the bucket
// has refilled enough, while the request's time lasts.
func (s *Server) sendBatch(ctx context.Context, account string, items []batchItem, oc orderCtx, refill bool) ([]wire.OrderReply, *apiError) {
	chunk := s.batchChunk()
	out := make([]wire.OrderReply, 0, len(items))
	for len(items) > 0 {
		n := min(len(items), chunk)
		var rep batchReply
		e := s.request(ctx, s.subj.OrderBatch(account), map[string]any{"orders": items[:n]}, &rep, oc)
		if e == nil && len(rep.Results) != n {
			e = errf(500, codeUnknown, "The exchange's batch reply has %d results for %d orders.", len(rep.Results), n)
		}
		if e != nil {
			if refill && e.Code == codeTooManyRequests && s.refill(ctx, n) {
				continue
			}
			return out, e
		}
		out = append(out, rep.Results...)
		items = items[n:]
	}
	return out, nil
}

// cancelEach cancels orders by sendBatch. order.cancel_all is not used: it
// would take the untriggered conditional orders too, which Binance's
// allOpenOrders leaves alone. A batch refused for the rate limit is sent
// again once the bucket has refilled; it is not atomic: the batches before
// a failure stay done. An order that filled or went meanwhile
// (UNKNOWN_ORDER) is simply not canceled; any other refusal of an item is
// the answer.
func (c *call) cancelEach(sym *symbol, os []wire.Order) *apiError {
	items := make([]batchItem, len(os))
	for i, o := range os {
		items[i] = cancelItem(sym, o.OrderID, "")
	}
	reps, e := c.s.sendBatch(c.ctx, c.account, items, ctxCancel, true)
	if e != nil {
		return e
	}
	for _, r := range reps {
		if !r.OK && (r.Error == nil || r.Error.Code != wire.CodeUnknownOrder) {
			return fromReply(r.Reply, ctxCancel)
		}
	}
	return nil
}

// refill waits until the rate-limit bucket has had time to refill n tokens;
// false when the limit is off or ctx would end first.
func (s *Server) refill(ctx context.Context, n int) bool {
	rl := s.cfg.RateLimit
	if !rl.Enabled() {
		return false
	}
	d := time.Duration(float64(n) / rl.OrdersPerS * float64(time.Second))
	if end, ok := ctx.Deadline(); ok && time.Until(end) < d {
		return false // it would not refill in time: answer the 429 now
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cancelAll is DELETE /fapi/v1/allOpenOrders: the symbol's plain open
// orders, as of the order.open read (conditional ones are algoOpenOrders').
func (c *call) cancelAll() (any, *apiError) { return c.cancelOpen(false) }

func (c *call) cancelOpen(algo bool) (any, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, e
	}
	os, e := c.openOf(sym, algo)
	if e != nil {
		return nil, e
	}
	if e := c.cancelEach(sym, os); e != nil {
		return nil, e
	}
	return ok("The operation of cancel all open order is done."), nil
}

// allOrders is GET /fapi/v1/allOrders: the symbol's orders the exchange
// keeps (open, and the last 1 000 closed), from orderId on or the newest
// limit, within startTime..endTime (creation times).
func (c *call) allOrders() (any, *apiError) {
	p, e := c.page(true, 500, "orderId")
	if e != nil {
		return nil, e
	}
	var rep wire.OrdersReply
	if e := c.s.request(c.ctx, c.s.subj.AccountOrders(c.account), wire.Orders{Symbol: p.sym.name, Limit: 1000}, &rep, ctxQuery); e != nil {
		return nil, e
	}
	out := []bnOrder{}
	for i := range rep.Orders {
		o := &rep.Orders[i]
		if o.Status != wire.StatusUntriggered && p.in(orderID(o.OrderID), o.CreatedMs) {
			out = append(out, c.s.toOrder(o))
		}
	}
	return cut(&p, out), nil
}

// userTrades is GET /fapi/v1/userTrades: the account's fills in the symbol
// (the last 1 000 kept), of orderId, from fromId (a trade id) on, or within
// startTime..endTime.
func (c *call) userTrades() (any, *apiError) {
	p, e := c.page(true, 500, "fromId")
	if e != nil {
		return nil, e
	}
	oid, hasOrder, e := c.integer("orderId", 0, 1<<62)
	if e != nil {
		return nil, e
	}
	var rep wire.FillsReply
	req := wire.Fills{Symbol: p.sym.name, StartMs: p.start, EndMs: p.end, Limit: 1000}
	if e := c.s.request(c.ctx, c.s.subj.Fills(c.account), req, &rep, ctxQuery); e != nil {
		return nil, e
	}
	out := []bnTrade{}
	for i := range rep.Fills {
		f := &rep.Fills[i]
		if (!hasOrder || orderID(f.OrderID) == uint64(oid)) && p.in(f.TradeSeq, f.TimeMs) {
			out = append(out, c.s.toTrade(f))
		}
	}
	return cut(&p, out), nil
}

// incomeTypes are Binance's incomeType of perpx's income types: the
// liquidation's takeover and the fund's cover are the insurance fund's
// clearance, a socialized-loss charge is realized PnL (risk books it so).
var incomeTypes = map[wire.IncomeType]string{
	wire.IncomeTransfer: "TRANSFER", wire.IncomeRealizedPnL: "REALIZED_PNL", wire.IncomeFee: "COMMISSION",
	wire.IncomeFunding: "FUNDING_FEE", wire.IncomeLiquidation: "INSURANCE_CLEAR", wire.IncomeInsurance: "INSURANCE_CLEAR",
	wire.IncomeSocializedLoss: "REALIZED_PNL",
}

// bnIncomeTypes are the incomeType values Binance documents; those perpx
// never books select nothing.
var bnIncomeTypes = []string{"TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR",
	"REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE", "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER",
	"OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE", "DELIVERED_SETTELMENT",
	"COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW", "POSITION_LIMIT_INCREASE_FEE", "STRATEGY_UMFUTURES_TRANSFER",
	"FEE_RETURN", "BFUSD_REWARD"}

// bnIncome is one row of /fapi/v1/income.
type bnIncome struct {
	Symbol     string `json:"symbol"`
	IncomeType string `json:"incomeType"`
	Income     string `json:"income"`
	Asset      string `json:"asset"`
	Info       string `json:"info"`
	Time       int64  `json:"time"`
	TranID     uint64 `json:"tranId"`
	TradeID    string `json:"tradeId"`
}

// income is GET /fapi/v1/income: the account's kept income rows (of
// symbol and incomeType when given) within startTime..endTime, the first
// limit (default 100) from startTime when given, else the newest limit;
// page n skips n−1 pages of them (within the 1 000 rows one read returns).
func (c *call) income() (any, *apiError) {
	p, e := c.page(false, 100, "")
	if e != nil {
		return nil, e
	}
	pg, _, e := c.integer("page", 1, 1000)
	if e != nil {
		return nil, e
	}
	req := wire.IncomeQuery{Fills: wire.Fills{Limit: wire.MaxAccountHistory, StartMs: p.start, EndMs: p.end}}
	if p.sym != nil {
		req.Symbol = p.sym.name
	}
	typ, hasType := c.str("incomeType")
	if hasType && !slices.Contains(bnIncomeTypes, typ) {
		return nil, errf(400, codeBadData, "Data sent for parameter 'incomeType' is not valid.")
	}
	var natives []wire.IncomeType
	for n, b := range incomeTypes {
		if b == typ {
			natives = append(natives, n)
		}
	}
	if hasType && len(natives) == 0 {
		return []bnIncome{}, nil
	}
	if !hasType {
		natives = []wire.IncomeType{""} // every type
	}
	// One read per native type, merged by id: one read of every type
	// filtered here could hold none of a rare type among its 1 000 rows
	// (history.account_income above 1 000).
	var rows []wire.Income
	for _, n := range natives {
		req.Type = n
		var rep wire.IncomeReply
		if e := c.s.request(c.ctx, c.s.subj.Income(c.account), req, &rep, ctxQuery); e != nil {
			return nil, e
		}
		rows = append(rows, rep.Income...)
	}
	slices.SortFunc(rows, func(a, b wire.Income) int { return cmp.Compare(a.ID, b.ID) })
	out := []bnIncome{}
	for _, r := range rows {
		b := bnIncome{IncomeType: incomeTypes[r.Type], Income: r.Amount.String(), Asset: r.Asset, Info: r.Info,
			Time: r.TimeMs, TranID: r.ID}
		if r.Symbol != "" {
			b.Symbol = c.s.bnName(r.Symbol)
		}
		if b.Info == "" {
			b.Info = string(r.Type)
		}
		if r.TradeSeq != 0 {
			b.TradeID = strconv.FormatUint(r.TradeSeq, 10)
		}
		out = append(out, b)
	}
	skip := (max(int(pg), 1) - 1) * p.limit // the pages before, from the side cut keeps
	if p.start > 0 {
		out = out[min(skip, len(out)):]
	} else {
		out = out[:max(len(out)-skip, 0)]
	}
	return cut(&p, out), nil
}
