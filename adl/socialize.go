package adl

import (
	"cmp"
	"math"
	"slices"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Charge is one profitable position's share of a socialized loss.
type Charge struct {
	Account book.AccountID
	Profit  market.Money // unrealized PnL at the mark (> 0)
	Amount  market.Money // 0 ≤ Amount ≤ Profit
	// Closed: the winner closed or reduced its position since profit was
	// set aside for this side; Profit is what it took out (at the mark
	// then), which it holds as cash. Ranking.Charged consumes it once charged.
	Closed bool
}

// Socialized is the result of Socialize.
type Socialized struct {
	Charges []Charge // by account ascending
	// Charged = Σ Charges[i].Amount = min(deficit, total profit);
	// Uncovered = deficit − Charged (left when the profit does not suffice).
	Charged, Uncovered market.Money
	Mark               book.Ticks // the profits were valued at
}

// Socialize spreads a deficit left by a bankrupt position on bankruptSide
// over every profitable opposite position in proportion to its unrealized
// profit at the mark: A = min(deficit, P), P = Σ profit, split with
// market.Split's rule over the winners by account ascending (the rounding
// dust goes to the higher accounts). The pieces sum to A exactly and none
// exceeds its profit. It changes no position; the risk layer debits the
// amounts. O(n log n) over the side: a rare, cold path.
func (rk *Ranking) Socialize(bankruptSide book.Side, deficit market.Money, dst []Charge) (Socialized, error) {
	return rk.SocializeAt(bankruptSide, deficit, 0, dst)
}

// SocializeAt is Socialize with the profit valued at mark instead of the
// ranking's (0: the ranking's): a liquidation charges its winners what
// they held when its loss was quoted, before the mark moved on. The
// winners include the profit taken out since the set-aside (gone,
// Charge.Closed), after an account's position if it still holds one.
func (rk *Ranking) SocializeAt(bankruptSide book.Side, deficit market.Money, mark book.Ticks, dst []Charge) (Socialized, error) {
	if mark == 0 {
		mark = rk.mark
	}
	switch {
	case !validSide(bankruptSide):
		return Socialized{}, ErrInvalidSide
	case deficit < 0:
		return Socialized{}, ErrInvalidAmount
	case mark == 0:
		return Socialized{}, ErrNoMark
	case mark < 0:
		return Socialized{}, ErrInvalidPrice
	}
	opp := bankruptSide.Opposite()
	start := len(dst)
	var total market.Money
	unable, charged := rk.unable[sideIndex(bankruptSide)], rk.charged[sideIndex(bankruptSide)]
	for i := range rk.pos {
		p := &rk.pos[i]
		if !p.live || p.side != opp || unable[p.acct]&unableLive != 0 {
			continue
		}
		profit, ok := rk.pnl(p.side, p.qty, p.cost, mark)
		if !ok {
			return Socialized{}, ErrOverflow
		}
		if profit -= charged[p.acct]; profit <= 0 { // what earlier rounds charged it
			continue
		}
		if profit > math.MaxInt64-total {
			return Socialized{}, ErrOverflow
		}
		total += profit
		dst = append(dst, Charge{Account: p.acct, Profit: profit})
	}
	for acct, profit := range rk.gone[sideIndex(bankruptSide)] {
		if unable[acct]&unableClosed != 0 {
			continue
		}
		if profit > math.MaxInt64-total {
			return Socialized{}, ErrOverflow
		}
		total += profit
		dst = append(dst, Charge{Account: acct, Profit: profit, Closed: true})
	}
	cs := dst[start:]
	slices.SortFunc(cs, func(a, b Charge) int {
		if c := cmp.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		return cmp.Compare(bit(a.Closed), bit(b.Closed))
	})
	a := min(deficit, total)
	var before market.Money
	for i := range cs {
		if total > 0 {
			cs[i].Amount = market.SplitPart(a, before, cs[i].Profit, total)
		}
		before += cs[i].Profit
	}
	return Socialized{Charges: dst, Charged: a, Uncovered: deficit - a, Mark: mark}, nil
}

// noteGone notes what an update to (side, qty) takes out of record idx,
// valued at the mark (takeOut).
func (rk *Ranking) noteGone(idx int32, side book.Side, qty book.Lots) {
	p := &rk.pos[idx]
	s := sideIndex(p.side.Opposite())
	if rk.aside[s] == 0 && rk.charged[s][p.acct] == 0 {
		return // nothing set aside, nothing charged: the common case
	}
	out := p.qty
	if side == p.side {
		out = p.qty - qty
	}
	if out <= 0 {
		return
	}
	var profit market.Money
	if rk.mark != 0 {
		removed := p.cost
		if out < p.qty {
			removed -= kept(p.cost, p.qty-out, p.qty)
		}
		profit, _ = rk.pnl(p.side, out, removed, rk.mark)
	}
	rk.takeOut(s, p.acct, out, p.qty, profit)
}

// takeOut books that acct takes out lots out of its qty-lot position
// opposite bankrupt side s, with profit: what rounds charged those lots
// comes off what they charged the position (chargedOut) and off the
// profit, and while profit is set aside against s or after a round
// charged acct, the rest is gone: the winner holds it as cash.
func (rk *Ranking) takeOut(s int, acct book.AccountID, out, qty book.Lots, profit market.Money) {
	open := rk.aside[s] > 0 || rk.charged[s][acct] > 0
	if ch := rk.chargedOut(s, acct, out, qty); open && profit > ch {
		rk.gone[s] = addTo(rk.gone[s], acct, profit-ch)
	}
}

// chargedOut takes off what rounds charged acct's position (opposite
// bankrupt side s, qty lots) the part on the out lots leaving it, and
// returns that part: a charge stays with the lots it was taken from.
func (rk *Ranking) chargedOut(s int, acct book.AccountID, out, qty book.Lots) market.Money {
	c := rk.charged[s][acct]
	if c == 0 {
		return 0
	}
	left := market.Money(0)
	if out < qty {
		left = scaleDown(c, qty-out, qty)
	}
	if left > 0 {
		rk.charged[s][acct] = left
	} else {
		delete(rk.charged[s], acct)
	}
	return c - left
}

// Charged books the charges of a SocializeAt for bankruptSide that went
// out: a closed winner's share of the profit it took out is consumed (it
// pays it once); a position's charge is added to what rounds charged it,
// which later rounds take off its profit (no winner pays more than its
// profit in all), and what it takes out before its charge arrives is
// charged in the next round.
func (rk *Ranking) Charged(bankruptSide book.Side, charges []Charge) {
	if !validSide(bankruptSide) {
		return
	}
	s := sideIndex(bankruptSide)
	g := rk.gone[s]
	for _, c := range charges {
		switch {
		case c.Amount <= 0:
		case !c.Closed:
			rk.charged[s] = addTo(rk.charged[s], c.Account, c.Amount)
		case g[c.Account] > c.Amount:
			g[c.Account] -= c.Amount
		default:
			delete(g, c.Account)
		}
	}
}

// Kinds of charges a winner could not pay (Ranking.unable).
const (
	unableLive   uint8 = 1 // against its position's profit
	unableClosed uint8 = 2 // against the profit it took out (Charge.Closed)
)

// Unable notes that acct could not pay unpaid of a charge for
// bankruptSide, one against the profit it took out when closed, else
// against its position's: SocializeAt passes such charges over until the
// next fresh set-aside. A position's unpaid part comes off what rounds
// charged it; what a close since moved into gone (chargedOut) goes back
// there.
func (rk *Ranking) Unable(bankruptSide book.Side, acct book.AccountID, closed bool, unpaid market.Money) {
	if !validSide(bankruptSide) {
		return
	}
	s := sideIndex(bankruptSide)
	if rk.unable[s] == nil {
		rk.unable[s] = map[book.AccountID]uint8{}
	}
	if closed {
		rk.unable[s][acct] |= unableClosed
		return
	}
	rk.unable[s][acct] |= unableLive
	if unpaid <= 0 {
		return
	}
	d := rk.uncharge(s, acct, unpaid)
	// The rest offset profit a close took out (takeOut): it is gone again.
	if unpaid > d && rk.gone[s][acct] > 0 {
		rk.gone[s] = addTo(rk.gone[s], acct, unpaid-d)
	}
}

// uncharge takes up to amount off what rounds charged acct's position
// opposite bankrupt side s and returns what it took.
func (rk *Ranking) uncharge(s int, acct book.AccountID, amount market.Money) market.Money {
	c := rk.charged[s][acct]
	d := min(c, amount)
	if d == c {
		delete(rk.charged[s], acct)
	} else {
		rk.charged[s][acct] = c - d
	}
	return d
}

// Refunded notes that acct got amount of a charge against its position
// opposite bankruptSide back (the escrow its liquidation did not need):
// it comes off what rounds charged the position, so later rounds may
// charge that profit again. The caller scales amount to the lots the
// position still holds of those it paid with (a charge goes with the lots
// a close takes out, chargedOut), never more: a refund that came off more
// would let a later round charge the same profit twice.
func (rk *Ranking) Refunded(bankruptSide book.Side, acct book.AccountID, amount market.Money) {
	if validSide(bankruptSide) && amount > 0 {
		rk.uncharge(sideIndex(bankruptSide), acct, amount)
	}
}

// Gone returns the profit acct took out of the ranking opposite
// bankruptSide (see Ranking.gone), not charged yet.
func (rk *Ranking) Gone(bankruptSide book.Side, acct book.AccountID) market.Money {
	if !validSide(bankruptSide) {
		return 0
	}
	return rk.gone[sideIndex(bankruptSide)][acct]
}
