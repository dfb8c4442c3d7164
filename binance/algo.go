package binance

// Binance's algo orders are perpx's conditional orders (API.md,
// CONDITIONAL ORDERS): the same order, its id the algoId; it fires into the
// book keeping that id (actualOrderId), where /fapi/v1/order sees it.

func (c *call) newAlgoOrder() (any, *apiError) {
	_, p, e := c.placeParams(true)
	if e != nil {
		return nil, e
	}
	o, e := c.s.orderRequest(c.ctx, c.s.subj.OrderPlace(c.account), p, ctxAlgo)
	if e != nil {
		return nil, e
	}
	return c.s.toAlgo(o), nil
}

func (c *call) algoRef() (id, cid string, e *apiError) { return c.orderRef("algoId", "clientAlgoId") }

// queryAlgoOrder is GET /fapi/v1/algoOrder; Binance's needs no symbol.
func (c *call) queryAlgoOrder() (any, *apiError) {
	id, cid, e := c.algoRef()
	if e != nil {
		return nil, e
	}
	o, e := c.lookup(id, cid, ctxQuery)
	if e != nil {
		return nil, e
	}
	if !o.Type.Conditional() {
		return nil, errNoSuchOrder
	}
	return c.s.toAlgo(o), nil
}

func (c *call) cancelAlgoOrder() (any, *apiError) {
	id, cid, e := c.algoRef()
	if e != nil {
		return nil, e
	}
	found, e := c.lookup(id, cid, ctxCancel) // the cancel subject needs the symbol
	if e != nil {
		return nil, e
	}
	if !found.Type.Conditional() {
		return nil, errf(400, codeCancelRejected, "Unknown order sent.")
	}
	sym, known := c.s.syms.byName[found.Symbol]
	if !known {
		return nil, errBadSymbol
	}
	o, e := c.cancel(sym, found.OrderID, "")
	if e != nil {
		return nil, e
	}
	return map[string]any{"algoId": orderID(o.OrderID), "clientAlgoId": o.ClientOrderID, "code": "200", "msg": "success"}, nil
}

func (c *call) openAlgoOrders() (any, *apiError) {
	sym, e := c.symbol(false)
	if e != nil {
		return nil, e
	}
	os, e := c.openOf(sym, true)
	if e != nil {
		return nil, e
	}
	out := make([]bnAlgo, len(os))
	for i := range os {
		out[i] = c.s.toAlgo(&os[i])
	}
	return out, nil
}

// cancelAllAlgo is DELETE /fapi/v1/algoOpenOrders: the symbol's untriggered
// conditional orders.
func (c *call) cancelAllAlgo() (any, *apiError) { return c.cancelOpen(true) }
