package liq

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Socialized loss (market.ADLSocialized): a liquidation whose loss may
// exceed what the fund reserved for it collects the excess from the
// profitable positions opposite its socialized legs before its orders go
// out (the escrow): the leg's quoted need beyond its share of the
// reservation, and its part of a base deficit the reservation does not
// cover, as charges paid from the winners' profit. Its IOC may then lose
// beyond its share only what the escrow holds; what the book does not take
// there goes to ADL at the bankruptcy price, which costs nothing. At the
// settlement the escrow pays the shortfall and the rest goes back to the
// winners (Refund), so what was quoted is always paid and no winner pays
// more than it was charged.

// social is a socialized leg's escrow and socialization rounds.
type social struct {
	// quoted: the ranking set capacity (the winners' profit opposite the
	// leg) aside for it; released (released) at the settlement.
	quoted, released bool
	capacity         market.Money
	// want is what the leg collects in escrow, base the part of it for the
	// base deficit beyond the reservation; escrowed: its collection rounds
	// are over (its order may go out).
	want, base     market.Money
	escrowed       bool
	asked, planned bool
	pending        int          // charges not answered yet
	charged        market.Money // what the winners paid
	// A winner may no longer hold the profit it was charged against, or
	// may have no margin to spare: what the winners could not pay is
	// spread again over the winners as they are now, for up to
	// MaxSocialRounds rounds while a round still collects something.
	unpaid, roundPaid market.Money
	rounds            int
}

// Payer is one winner's payment into a liquidation (a SocialCharged with
// Paid > 0), kept for its refund.
type Payer struct {
	Leg     int
	Account book.AccountID
	Paid    market.Money
	Qty     book.Lots // the winner's position after the payment
	Closed  bool      // paid from the profit it had taken out (adl.Charge.Closed)
}

// MaxSocialRounds bounds the re-spreading of unpaid charges; what is still
// unpaid after it falls to the fund.
const MaxSocialRounds = 16

// Charged is what the winners of every socialized leg paid so far.
func (m *Machine) Charged() market.Money {
	var sum market.Money
	for i := range m.Legs {
		sum += m.Legs[i].social.charged
	}
	return sum
}

// Held is what the liquidation holds of the winners' payments: what they
// paid, until Abandon gives it all back (an answer after it is refunded
// as it comes). Money counts (audits) take this, not Charged.
func (m *Machine) Held() market.Money {
	if m.abandoned {
		return 0
	}
	return m.Charged()
}

// escrow sets each socialized leg's want: its quoted need beyond its share
// of the reservation, plus its part of the base deficit beyond the
// reservation (market.Split by those needs, all on the first socialized
// leg when none has one).
func (m *Machine) escrow() {
	first := -1
	for i := range m.Legs {
		if g := &m.Legs[i]; g.Socialized && g.Remaining != 0 {
			first = i
			break
		}
	}
	if first < 0 {
		return // no allocation for the common case
	}
	short := max(0, m.L.Deficit-m.amount)
	w := make([]market.Money, len(m.Legs))
	var total market.Money
	for i := range m.Legs {
		if g := &m.Legs[i]; g.Socialized && g.Remaining != 0 {
			w[i] = max(0, g.quote.Need-g.share)
			total += w[i]
		}
	}
	if total == 0 {
		w[first] = 1
	}
	base := market.Split(short, w, nil)
	for i := range m.Legs {
		if g := &m.Legs[i]; g.Socialized && g.Remaining != 0 {
			g.social.base = base[i]
			g.social.want = base[i]
			if total > 0 {
				g.social.want += w[i]
			}
		}
	}
}

// budget is what leg g's IOC may lose: its share of the reservation and
// what its escrow holds beyond its part of the base deficit.
func (g *Leg) budget() market.Money {
	return g.share + max(0, g.social.charged-g.social.base)
}

// collected is called when leg i's escrow round got an answer: once its
// rounds are over the leg is escrowed, and once every leg is, the orders
// go out.
func (m *Machine) collected(i int) error {
	if !m.socialRound(i) {
		return nil
	}
	sc := &m.Legs[i].social
	sc.escrowed, sc.asked, sc.planned, sc.unpaid, sc.roundPaid, sc.rounds = true, false, false, 0, 0, 0
	if m.collecting--; m.collecting == 0 && m.quotes == 0 {
		return m.sendOrders()
	}
	return nil
}

// socialized reports whether the liquidation may settle, setting m.pay,
// what the winners' payments give the fund. With the shortfall beyond the
// reservation (fund is the settlement's share, risk's Settlement.Fund)
// within the escrow, the escrow pays it and the rest is refunded at once;
// beyond it (a base deficit the escrow could not collect) the rest is
// spread over the winners as they are now, and all they pay goes to the
// fund.
func (m *Machine) socialized(fund market.Money) bool {
	if m.socialEnd {
		done := true
		for i := range m.Legs {
			if m.Legs[i].social.asked && !m.socialRound(i) {
				done = false
			}
		}
		if done {
			m.pay = m.Charged()
		}
		return done
	}
	quoted := false
	for i := range m.Legs {
		quoted = quoted || m.Legs[i].social.quoted
	}
	if !quoted {
		return true
	}
	m.socialEnd = true
	short, c := max(0, -fund-m.amount), m.Charged()
	if short <= c {
		m.pay = short
		m.refund(short)
		for i := range m.Legs {
			if sc := &m.Legs[i].social; sc.quoted && !sc.released {
				m.releaseSocial(i, sc.capacity)
			}
		}
		return true
	}
	shorts := m.splitShortfall(short - c)
	for i := range m.Legs {
		sc := &m.Legs[i].social
		if !sc.quoted {
			continue
		}
		sc.asked, sc.rounds, sc.released = true, 1, true
		m.socialize(i, shorts[i], sc.capacity)
	}
	return false
}

// refund gives back to the winners what the escrow holds beyond keep:
// keep is split over the payments by amount (market.Split, in the order
// they arrived), each payment's part at most itself, and each payer gets
// the rest of its payment back.
func (m *Machine) refund(keep market.Money) {
	w := make([]market.Money, len(m.payers))
	for k := range m.payers {
		w[k] = m.payers[k].Paid
	}
	parts := market.Split(keep, w, nil)
	for k := range m.payers {
		if r := m.payers[k].Paid - parts[k]; r > 0 {
			m.refundOne(k, r)
		}
	}
}

// refundOne emits the refund of r of payment k.
func (m *Machine) refundOne(k int, r market.Money) {
	p := &m.payers[k]
	g := &m.Legs[p.Leg]
	m.refunds = append(m.refunds, Refund{Leg: p.Leg, Side: sideOf(g.Qty), Account: p.Account, Amount: r, Qty: p.Qty, Closed: p.Closed})
}

// emitRefunds emits the refunds refund and refundOne queued (after
// m.refunds stops growing: the effects point into it).
func (m *Machine) emitRefunds() {
	for k := range m.refunds {
		m.emit(&m.refunds[k])
	}
}

// socialRound reports whether leg i's round is complete, starting
// another round over what its winners could not pay when one is due.
func (m *Machine) socialRound(i int) bool {
	g := &m.Legs[i]
	sc := &g.social
	if !sc.planned || sc.pending > 0 {
		return false
	}
	if sc.unpaid == 0 || sc.roundPaid == 0 || sc.rounds >= MaxSocialRounds {
		return true
	}
	short := sc.unpaid
	sc.unpaid, sc.roundPaid, sc.planned = 0, 0, false
	sc.rounds++
	m.socialize(i, short, 0)
	return false
}

// splitShortfall splits the shortfall beyond the reservation and the
// escrow over the quoted socialized legs in proportion to each leg's loss
// beyond its share of the reservation (by their set-asides when none lost
// beyond its share, all on the first quoted leg when none has one), with
// market.Split's rule in leg order. The parts are not capped by the
// set-asides: a set-aside is all the profit no other liquidation in flight
// set aside, so the first of many on a side holds it all and the others
// none, and their kept funding ended uncovered although the winners held
// the profit (TestLegFundingKeptBeyondAStarvedSetAside); the ranking still
// charges no winner beyond its profit.
func (m *Machine) splitShortfall(short market.Money) []market.Money {
	w := make([]market.Money, len(m.Legs))
	var total, caps market.Money
	first := -1
	for i := range m.Legs {
		if g := &m.Legs[i]; g.social.quoted {
			w[i] = max(0, -g.Gain-g.share)
			total += w[i]
			caps += g.social.capacity
			if first < 0 {
				first = i
			}
		}
	}
	switch {
	case total == 0 && caps == 0:
		w[first] = 1
	case total == 0: // by set-aside
		for i := range m.Legs {
			if m.Legs[i].social.quoted {
				w[i] = m.Legs[i].social.capacity
			}
		}
	}
	return market.Split(max(short, 0), w, nil)
}

func (m *Machine) socialLeg(i int) (*social, error) {
	g, err := m.leg(i)
	if err != nil {
		return nil, err
	}
	if !g.social.asked {
		return nil, m.broken("socialized-loss answer for leg %s, which asked nothing", g.Symbol.Name)
	}
	return &g.social, nil
}

func (m *Machine) onSocialPlan(in SocialPlan) error {
	sc, err := m.socialLeg(in.Leg)
	if err != nil {
		return err
	}
	if sc.planned {
		return m.broken("second socialized-loss plan for leg %d", in.Leg)
	}
	if in.N < 0 || in.Uncovered < 0 {
		return m.broken("socialized-loss plan of %d charges leaving %d uncovered", in.N, in.Uncovered)
	}
	sc.planned = true
	sc.pending += in.N
	sc.unpaid += in.Uncovered
	return m.afterSocial(in.Leg)
}

// afterSocial goes on after an answer to leg i's round: its escrow, or the
// settlement's rounds.
func (m *Machine) afterSocial(i int) error {
	if !m.Legs[i].social.escrowed {
		return m.collected(i)
	}
	return m.checkDone()
}

func (m *Machine) onSocialCharged(in SocialCharged) error {
	sc, err := m.socialLeg(in.Leg)
	if err != nil {
		return err
	}
	if in.Paid < 0 || in.Paid > in.Asked {
		return m.broken("a winner paid %d of a charge of %d", in.Paid, in.Asked)
	}
	sc.pending--
	sc.charged += in.Paid
	sc.roundPaid += in.Paid
	sc.unpaid += in.Asked - in.Paid
	if in.Paid > 0 {
		m.payers = append(m.payers, Payer{Leg: in.Leg, Account: in.Account, Paid: in.Paid, Qty: in.Qty, Closed: in.Closed})
	}
	return m.afterSocial(in.Leg)
}

// SetAsidesDue counts the socialized legs' set-asides asked and not
// answered yet, and escrows not collected yet (the IOC orders wait for
// them).
func (m *Machine) SetAsidesDue() int { return m.quotes + m.collecting }

// Payers are the winners' payments into the liquidation so far.
func (m *Machine) Payers() []Payer { return m.payers }

func (m *Machine) socialize(i int, deficit, release market.Money) {
	g := &m.Legs[i]
	se := g.socialEffects()
	se.socialize = Socialize{Leg: i, Side: sideOf(g.Qty), Deficit: deficit, Release: release}
	m.emit(&se.socialize)
}

// Uncharged is the part of refund r that comes off what the ranking
// counts charged to the winner's position (adl.Ranking.Refunded) when the
// winner holds now lots (signed): the refund scaled to the lots it still
// holds of the Qty it paid with (rounded down), nothing for a payment from
// profit taken out or once the position closed or flipped.
func (r *Refund) Uncharged(now book.Lots) market.Money {
	if r.Closed || r.Qty == 0 || now == 0 || (now > 0) != (r.Qty > 0) {
		return 0
	}
	held := min(abs(now), abs(r.Qty))
	return market.Money(market.MustMulDiv(int64(r.Amount), int64(held), int64(abs(r.Qty)), false))
}
