package liq

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// QuoteLeg is a leg as its book quotes it: the position's signed
// remaining size (> 0 long: the IOC sells), its bankruptcy price and the
// worst price its IOC may trade at (risk's PriceBound; 0 none).
type QuoteLeg struct {
	Symbol     *market.Symbol
	Qty        book.Lots
	Bankruptcy book.Ticks
	Bound      book.Ticks
}

// Quote is a leg's coverage need from its book and the mark whose price
// band limits the leg's IOC order.
type Quote struct {
	Need market.Money
	Mark book.Ticks
}

// QuoteDepth: a leg's need is quoted for a sweep of QuoteDepth times its
// size, room for as much again taken first by liquidations in flight.
const QuoteDepth = 2

// Need quotes the coverage leg g's IOC order needs to fill in book b at
// mark: a long sells QuoteDepth × qty into the bids down to level price P
// (the last level if the bids hold less), so need = qty × (B − P) with P
// no worse than the leg's bound and within the band around mark
// (risk.BoundLimit; a short buys up the asks: need = qty × (P − B)); 0
// when that side is empty or better than B, or when no price in the band
// is within the bound (the leg goes to ADL). The IOC's limit B ∓ R/qty
// (risk's OrderLimit, under the same clamps) reaches P when the fund
// grants it all, so the fund never reserves beyond what the bound can
// lose.
func Need(g QuoteLeg, b *book.Book, mark book.Ticks) Quote {
	s := g.Symbol
	q := Quote{Mark: mark}
	qty := abs(g.Qty)
	side := book.Sell
	if g.Qty < 0 {
		side = book.Buy
	}
	p, ok := b.SweepPrice(side, QuoteDepth*qty)
	if ok {
		p = risk.BoundLimit(s, g.Qty > 0, g.Bound, p, mark)
	}
	switch {
	case !ok || p <= 0:
	case g.Qty > 0 && g.Bankruptcy > p:
		q.Need = s.ValueDiff(g.Bankruptcy, p, qty)
	case g.Qty < 0 && p > g.Bankruptcy:
		q.Need = s.ValueDiff(p, g.Bankruptcy, qty)
	}
	return q
}

// Coverage is what the fund is asked to reserve for a liquidation: the
// base deficit plus every leg's quoted need.
func Coverage(base market.Money, quotes []Quote) market.Money {
	for _, q := range quotes {
		base += q.Need
	}
	return base
}
