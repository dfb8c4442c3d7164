package gateway

import (
	"sync/atomic"

	"github.com/perpx/perpx/wire"
)

// batch is an order.batch request whose items are with the exchange; the
// last item answered sends the one reply.
type batch struct {
	p       pending
	items   []wire.BatchItem
	replies []wire.OrderReply // by item index, each written by its own done
	left    atomic.Int32
}

// serveBatch decodes a batch, takes one token per item (one for a malformed
// batch, as for a malformed order) and calls the exchange for each item in
// order: the account actor's mailbox keeps that order, so an item sees the
// effects of the items before it, as separate requests would.
func serveBatch(g *Gateway, rt wire.Route, data []byte, p pending) *wire.Error {
	items, err := wire.DecodeBatch(data)
	if !g.limiter.allow(rt.Account, max(len(items), 1), p.start) {
		return rateLimited(rt.Account)
	}
	if err != nil {
		return err
	}
	b := &batch{p: p, items: items, replies: make([]wire.OrderReply, len(items))}
	b.left.Store(int32(len(items)))
	for i, it := range items {
		done := func(r wire.OrderReply) { b.done(i, r) }
		switch {
		case it.Err != nil:
			done(wire.OrderReply{Reply: wire.Reply{Error: it.Err}})
		case it.Endpoint == wire.EpOrderPlace:
			g.x.PlaceOrder(rt.Account, it.Place, done)
		default:
			g.x.CancelOrder(rt.Account, it.Cancel, done)
		}
	}
	return nil
}

// done records item i's reply; the atomic count orders every reply before
// the encoding of the last.
func (b *batch) done(i int, r wire.OrderReply) {
	b.replies[i] = r
	if b.left.Add(-1) == 0 {
		b.p.finish(wire.Reply{OK: true}, b.body)
	}
}

// body appends {"ok":true,"results":[..]}, each result the bytes its item's
// single request would have been answered with, and counts the items in the
// metrics as single requests.
func (b *batch) body(dst []byte) ([]byte, *wire.Error) {
	dst = append(dst, `{"ok":true,"results":[`...)
	for i, r := range b.replies {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err *wire.Error
		dst, err = appendReply(dst, r.Reply, func(d []byte) ([]byte, *wire.Error) { return orderBody(d, r) })
		b.p.g.count(b.items[i].Endpoint, err)
	}
	return append(dst, "]}"...), nil
}
