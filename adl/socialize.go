package adl

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Charge is one profitable position's share of a socialized loss.
type Charge struct {
	Account book.AccountID
	Profit  market.Money // unrealized PnL at the mark (> 0)
	Amount  market.Money // 0 ≤ Amount ≤ Profit
	rem     uint64
}

// Socialized is the result of Socialize.
type Socialized struct {
	Charges []Charge // by account ascending
	// Charged = Σ Charges[i].Amount = min(deficit, total profit);
	// Uncovered = deficit − Charged (left when the profit does not suffice).
	Charged, Uncovered market.Money
}

// Socialize spreads a deficit left by a bankrupt position on bankruptSide
// over every profitable opposite position in proportion to its unrealized
// profit at the mark: Amount_i = floor(A × profit_i / P) with A =
// min(deficit, P), P = Σ profit, then the A − Σ floor leftover units go one
// each to the largest remainders (ties: lower account). The pieces sum to
// A exactly and none exceeds its profit. It changes no position; the risk
// layer debits the amounts. O(n log n) over the side: a rare, cold path.
func (rk *Ranking) Socialize(bankruptSide book.Side, deficit market.Money, dst []Charge) (Socialized, error) {
	switch {
	case !validSide(bankruptSide):
		return Socialized{}, ErrInvalidSide
	case deficit < 0:
		return Socialized{}, ErrInvalidAmount
	case rk.mark == 0:
		return Socialized{}, ErrNoMark
	}
	opp := bankruptSide.Opposite()
	start := len(dst)
	var total uint64
	for i := range rk.pos {
		p := &rk.pos[i]
		if !p.live || p.side != opp {
			continue
		}
		profit, ok := pnl(p.side == Long, p.qty, p.cost, rk.mark, rk.cfg.Multiplier)
		if !ok {
			return Socialized{}, ErrOverflow
		}
		if profit <= 0 {
			continue
		}
		if total += uint64(profit); total > math.MaxInt64 {
			return Socialized{}, ErrOverflow
		}
		dst = append(dst, Charge{Account: p.acct, Profit: profit})
	}
	cs := dst[start:]
	slices.SortFunc(cs, func(a, b Charge) int { return cmp.Compare(a.Account, b.Account) })
	if total == 0 {
		return Socialized{Charges: dst, Uncovered: deficit}, nil
	}
	a := min(uint64(deficit), total)
	var sum uint64
	for i := range cs {
		hi, lo := bits.Mul64(a, uint64(cs[i].Profit))
		q, rem := bits.Div64(hi, lo, total) // hi < total since a ≤ total
		cs[i].Amount, cs[i].rem = market.Money(q), rem
		sum += q
	}
	if left := a - sum; left > 0 {
		order := rk.socialOrder[:0]
		for i := range cs {
			order = append(order, int32(i))
		}
		slices.SortFunc(order, func(x, y int32) int {
			if c := cmp.Compare(cs[y].rem, cs[x].rem); c != 0 {
				return c
			}
			return cmp.Compare(cs[x].Account, cs[y].Account)
		})
		for _, i := range order[:left] {
			cs[i].Amount++
		}
		rk.socialOrder = order[:0]
	}
	return Socialized{Charges: dst, Charged: market.Money(a), Uncovered: deficit - market.Money(a)}, nil
}
