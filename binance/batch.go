package binance

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/perpx/perpx/wire"
)

// The batch endpoints, /fapi/v1/batchOrders: POST places, DELETE cancels,
// PUT modifies several orders in one request. The answer is a list, one
// element per order in the request's order: the order as the single
// endpoint answers it, or Binance's {"code","msg"} for one refused, with
// HTTP 200 however many are refused. A request malformed as a whole (no
// list, not JSON, too many) is one error, and nothing is done. Places and
// cancels go to the exchange as one order.batch, executed in order; a
// modify is an order.amend each (not a batch item), sent in order.

// Binance's sizes of a batch.
const (
	maxBatchOrders = 5  // POST and PUT batchOrders
	maxBatchIDs    = 10 // DELETE batchOrders' orderIdList, origClientOrderIdList
)

// errBadBatchSize is Binance's -4082 (INVALID_BATCH_PLACE_ORDER_SIZE).
func errBadBatchSize(n int) *apiError {
	return errf(400, -4082, "Invalid number of batch place orders: %d (1 to %d).", n, maxBatchOrders)
}

// batchParams reads batchOrders: a JSON list of 1 to maxBatchOrders
// objects, each an order's parameters. Binance documents the values as
// strings; a number or a boolean is taken as its text (ccxt sends
// "reduceOnly":true), a null as absent, and a list or object is that item's
// -1130. The answer starts with those items' errors; the others are nil.
func (c *call) batchParams() ([]*call, []any, *apiError) {
	raw, e := c.need("batchOrders")
	if e != nil {
		return nil, nil, e
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &list) != nil || list == nil || slices.ContainsFunc(list, func(m map[string]json.RawMessage) bool { return m == nil }) {
		return nil, nil, badData("batchOrders")
	}
	if len(list) == 0 || len(list) > maxBatchOrders {
		return nil, nil, errBadBatchSize(len(list))
	}
	items := make([]*call, len(list))
	out := make([]any, len(list))
	for i, obj := range list {
		params := url.Values{}
		for _, name := range slices.Sorted(maps.Keys(obj)) { // the first bad key names the error, whatever the map's order
			v := bytes.TrimSpace(obj[name])
			switch v[0] {
			case 'n': // null
			case '"':
				var s string
				_ = json.Unmarshal(v, &s) // valid JSON: it was decoded
				params.Set(name, s)
			case '{', '[':
				if out[i] == nil {
					out[i] = badData(name)
				}
			default: // a number, true or false: its text
				params.Set(name, string(v))
			}
		}
		items[i] = &call{s: c.s, r: c.r, ctx: c.ctx, params: params, account: c.account}
	}
	return items, out, nil
}

// op is an item of a batch the face sends to the exchange: its index in
// the answer, its order.batch item and how a refusal of it reads.
type op struct {
	at   int
	item batchItem
	oc   orderCtx
}

// sendOps sends ops as one order.batch (more when the rate-limit bucket is
// smaller) and puts each reply in out at its index. A failure of the whole
// batch (the exchange unreachable or slow, its order bucket empty) is the
// answer when no item was answered yet; after, each item left gets it.
func (c *call) sendOps(out []any, ops []op) *apiError {
	if len(ops) == 0 {
		return nil
	}
	items := make([]batchItem, len(ops))
	for i, o := range ops {
		items[i] = o.item
	}
	reps, e := c.s.sendBatch(c.ctx, c.account, items, ctxOther, false)
	for i, r := range reps {
		out[ops[i].at] = c.s.orderAnswer(&r, ops[i].oc)
	}
	if e != nil {
		if len(reps) == 0 {
			return e
		}
		for _, o := range ops[len(reps):] {
			out[o.at] = e
		}
	}
	return nil
}

// orderAnswer is an order reply as a batch's element: the order, or
// Binance's error.
func (s *Server) orderAnswer(r *wire.OrderReply, oc orderCtx) any {
	if e := fromReply(r.Reply, oc); e != nil {
		return e
	}
	if r.Order == nil {
		return errf(500, codeUnknown, "The exchange's order reply has no order.")
	}
	return s.toOrder(r.Order)
}

// sendBatchOps answers POST (placeOps) and DELETE (cancelOps)
// batchOrders: the items read, then sent as order.batch.
func (c *call) sendBatchOps(read func(*call) ([]any, []op, *apiError)) (any, *apiError) {
	out, ops, e := read(c)
	if e == nil {
		e = c.sendOps(out, ops)
	}
	if e != nil {
		return nil, e
	}
	return out, nil
}

// placeOps reads POST /fapi/v1/batchOrders (ccxt's createOrders): up to 5
// orders of /fapi/v1/order's parameters. It is the answer with the refused
// ones' errors, and an order.batch place of each other.
func (c *call) placeOps() ([]any, []op, *apiError) {
	items, out, e := c.batchParams()
	if e != nil {
		return nil, nil, e
	}
	var ops []op
	for i, it := range items {
		if out[i] != nil {
			continue
		}
		_, p, e := it.placeParams(false)
		if e != nil {
			out[i] = e
			continue
		}
		oc := ctxOther
		if p.Type == wire.Market {
			oc = ctxMarket
		}
		ops = append(ops, op{at: i, item: batchItem{"place": p}, oc: oc})
	}
	return out, ops, nil
}

// cancelOps reads DELETE /fapi/v1/batchOrders (ccxt's cancelOrders): the
// symbol's orders of orderIdList or origClientOrderIdList (either, not
// both; ccxt spells them in lower case, as Binance accepts), up to 10. It
// is the answer with the errors of ids no order can have or that name an
// algo order (algoOpen), and an order.batch cancel of each other.
func (c *call) cancelOps() ([]any, []op, *apiError) {
	sym, e := c.symbol(true)
	if e != nil {
		return nil, nil, e
	}
	name, raw, e := c.idList()
	if e != nil {
		return nil, nil, e
	}
	var list []json.RawMessage
	if json.Unmarshal([]byte(raw), &list) != nil || len(list) == 0 || len(list) > maxBatchIDs {
		return nil, nil, errf(400, codeBadData, "Data sent for parameter '%s' is not valid: a JSON list of 1 to %d.", name, maxBatchIDs)
	}
	byID := name == "orderIdList"
	algos, e := c.algoOpen(sym)
	if e != nil {
		return nil, nil, e
	}
	out := make([]any, len(list))
	ops := make([]op, 0, len(list))
	for i, v := range list {
		id, ok := listElem(v, byID)
		oid, cid := id, ""
		if !byID {
			oid, cid = "", id
		}
		switch {
		case !ok:
			return nil, nil, badData(name)
		case !byID && !wire.ValidClientID(id): // no order has it
			out[i] = errf(400, codeCancelRejected, "Unknown order sent.")
		case findIn(algos, oid, cid) != nil:
			out[i] = errCancelAlgo()
		default:
			ops = append(ops, op{at: i, item: cancelItem(sym, oid, cid), oc: ctxCancel})
		}
	}
	return out, ops, nil
}

// idList is the list of ids DELETE batchOrders names: its parameter's
// name (Binance's spelling) and value.
func (c *call) idList() (name, raw string, e *apiError) {
	for _, n := range [][2]string{{"orderIdList", "orderidlist"}, {"origClientOrderIdList", "origclientorderidlist"}} {
		v, given := c.str(n[0])
		if !given {
			v, given = c.str(n[1])
		}
		if !given {
			continue
		}
		if name != "" {
			return "", "", errf(400, -1128, "Combination of optional parameters invalid: send orderIdList or origClientOrderIdList, not both.")
		}
		name, raw = n[0], v
	}
	if name == "" {
		return "", "", errf(400, codeMandatory, "Either orderIdList or origClientOrderIdList must be sent.")
	}
	return name, raw, nil
}

// listElem reads an element of an id list: an order id (a number, or its
// digits quoted), else a client order id (a string); false when it is not.
func listElem(v json.RawMessage, byID bool) (string, bool) {
	var s string
	if json.Unmarshal(v, &s) != nil {
		if !byID {
			return "", false
		}
		s = string(v)
	}
	if !byID {
		return s, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(n, 10), true // the id as the exchange writes it
}

// batchModify is PUT /fapi/v1/batchOrders (ccxt's editOrders): up to 5
// modifies of PUT /fapi/v1/order's parameters. The open orders are read
// once; each modify is then checked against them, as they stand after the
// items before, and sent as an order.amend of its own, in order.
func (c *call) batchModify() (any, *apiError) {
	items, out, e := c.batchParams()
	if e != nil {
		return nil, e
	}
	mods := make([]modify, len(items))
	pending := false
	for i, it := range items {
		if out[i] == nil {
			mods[i], e = it.modifyParams()
			if e != nil {
				out[i] = e
			}
			pending = pending || e == nil
		}
	}
	if !pending {
		return out, nil
	}
	open, e := c.open(nil)
	if e != nil {
		return nil, e
	}
	answered := false
	for i := range mods {
		if out[i] != nil {
			continue
		}
		m := &mods[i]
		k := slices.IndexFunc(open, func(o wire.Order) bool {
			return o.Symbol == m.sym.name && (m.id != "" && o.OrderID == m.id || m.cid != "" && o.ClientOrderID == m.cid)
		})
		var o *wire.Order
		if k >= 0 {
			o = &open[k]
		}
		if e := m.check(o); e != nil {
			out[i] = e
			continue
		}
		res, e := c.s.orderRequest(c.ctx, c.s.subj.OrderAmend(c.account), m.a, ctxQuery)
		switch {
		case e != nil && wholeFailure(e):
			if !answered {
				return nil, e
			}
			for j := i; j < len(out); j++ {
				if out[j] == nil {
					out[j] = e
				}
			}
			return out, nil
		case e != nil:
			out[i] = e
		default:
			out[i], open[k], answered = c.s.toOrder(res), *res, true
		}
	}
	return out, nil
}

// wholeFailure reports whether e is no refusal of the request but the
// exchange not answering it (unreachable, slow, failing) or its order bucket
// empty.
func wholeFailure(e *apiError) bool {
	return e.status == http.StatusTooManyRequests || e.status >= 500
}
