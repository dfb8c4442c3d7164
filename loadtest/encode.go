package loadtest

import (
	"strconv"

	"github.com/perpx/perpx/wire"
)

// order is one order request in integer steps; the hot path builds its JSON
// body with appendPlace instead of reflection and decimal arithmetic.
type order struct {
	sym        *symbol
	side       wire.Side
	priceTicks int64 // 0: a market order
	lots       int64
	tif        wire.TIF // "" leaves the exchange's default
	postOnly   bool
	reduceOnly bool
	coid       uint64 // client order id number, see appendCOID
	// stopTicks > 0 makes it a close_position stop_market triggered by the
	// mark at that price (no price, no qty).
	stopTicks int64
}

// appendPlace appends the order.place body of o. Symbol names and enums are
// tokens, so they need no JSON escaping.
func appendPlace(dst []byte, o *order) []byte {
	dst = append(dst, `{"symbol":"`...)
	dst = append(dst, o.sym.Name...)
	dst = append(dst, `","side":"`...)
	dst = append(dst, o.side...)
	if o.stopTicks > 0 {
		dst = append(dst, `","type":"stop_market","close_position":true,"trigger_price":"`...)
		dst = o.sym.tick.appendUnits(dst, o.stopTicks)
		dst = append(dst, `","client_order_id":"`...)
		dst = appendCOID(dst, o.coid)
		return append(dst, `"}`...)
	}
	if o.priceTicks > 0 {
		dst = append(dst, `","type":"limit","price":"`...)
		dst = o.sym.tick.appendUnits(dst, o.priceTicks)
	} else {
		dst = append(dst, `","type":"market`...)
	}
	dst = append(dst, `","qty":"`...)
	dst = o.sym.lot.appendUnits(dst, o.lots)
	dst = append(dst, '"')
	if o.tif != "" {
		dst = append(dst, `,"tif":"`...)
		dst = append(dst, o.tif...)
		dst = append(dst, '"')
	}
	if o.postOnly {
		dst = append(dst, `,"post_only":true`...)
	}
	if o.reduceOnly {
		dst = append(dst, `,"reduce_only":true`...)
	}
	dst = append(dst, `,"client_order_id":"`...)
	dst = appendCOID(dst, o.coid)
	return append(dst, `"}`...)
}

// appendCancel appends the order.cancel body for the client order id coid.
func appendCancel(dst []byte, sym *symbol, coid uint64) []byte {
	dst = append(dst, `{"symbol":"`...)
	dst = append(dst, sym.Name...)
	dst = append(dst, `","client_order_id":"`...)
	dst = appendCOID(dst, coid)
	return append(dst, `"}`...)
}

// appendAmendPrice appends the order.amend body moving the order with
// client order id coid to priceTicks.
func appendAmendPrice(dst []byte, sym *symbol, coid uint64, priceTicks int64) []byte {
	dst = append(dst, `{"symbol":"`...)
	dst = append(dst, sym.Name...)
	dst = append(dst, `","client_order_id":"`...)
	dst = appendCOID(dst, coid)
	dst = append(dst, `","price":"`...)
	dst = sym.tick.appendUnits(dst, priceTicks)
	return append(dst, `"}`...)
}

// appendCancelAll appends the order.cancel_all body for sym.
func appendCancelAll(dst []byte, sym *symbol) []byte {
	dst = append(dst, `{"symbol":"`...)
	dst = append(dst, sym.Name...)
	return append(dst, `"}`...)
}

// appendCOID writes client order id n as "lt" and n in base 36: a token,
// unique per account because every account belongs to one run.
func appendCOID(dst []byte, n uint64) []byte {
	return strconv.AppendUint(append(dst, "lt"...), n, 36)
}
