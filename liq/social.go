package liq

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Socialized loss (market.ADLSocialized): a liquidation whose deficit
// exceeds what the fund reserved for it spreads the shortfall over the
// profitable positions opposite its socialized legs; each winner pays its
// share from its profit and keeps its position; the bankrupt account
// settles with the fund for the deficit less what the winners paid.

// social is a socialized leg's socialization round.
type social struct {
	// quoted: the ranking set capacity (the winners' profit opposite the
	// leg) aside for it; released by the leg's Socialize at settlement.
	quoted         bool
	capacity       market.Money
	asked, planned bool
	pending        int          // charges not answered yet
	charged        market.Money // what the winners paid
	// A winner may no longer hold the profit it was charged against (it
	// closed or lost it since the ranking saw it), and the winners' profit
	// at the mark may have fallen below the deficit since the set-aside:
	// what they could not pay is spread again over the winners as they are
	// now, for up to MaxSocialRounds rounds while a round still collects
	// something.
	unpaid, roundPaid market.Money
	rounds            int
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

// socialized reports whether the liquidation may settle: true when no
// socialization is needed or every socialized leg's round is complete;
// otherwise it starts the rounds (once) and returns false. fund is the
// settlement's share (risk's Settlement.Fund).
func (m *Machine) socialized(fund market.Money) bool {
	var quoted, started bool
	for i := range m.Legs {
		quoted = quoted || m.Legs[i].social.quoted
		started = started || m.Legs[i].social.asked // every quoted leg is asked at once
	}
	if !started {
		if !quoted {
			return true
		}
		shorts := m.splitShortfall(max(0, -fund-m.amount))
		for i := range m.Legs {
			sc := &m.Legs[i].social
			if !sc.quoted {
				continue
			}
			sc.asked, sc.rounds = true, 1
			m.socialize(i, shorts[i], sc.capacity, m.Legs[i].quote.Mark)
		}
		return false
	}
	done := true
	for i := range m.Legs {
		if m.Legs[i].social.asked && !m.socialRound(i) {
			done = false
		}
	}
	return done
}

// socialRound reports whether leg i's socialization is complete, starting
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
	m.socialize(i, short, 0, 0)
	return false
}

// splitShortfall splits the shortfall beyond the reservation over the
// quoted socialized legs in proportion to each leg's loss beyond its share
// of the reservation (by their set-asides when none lost beyond its
// share), with market.Split's rule in leg order, each part capped by its
// leg's set-aside; what the caps leave falls on the fund.
func (m *Machine) splitShortfall(short market.Money) []market.Money {
	w := make([]market.Money, len(m.Legs))
	var total market.Money
	for i := range m.Legs {
		if g := &m.Legs[i]; g.social.quoted {
			w[i] = max(0, -g.Gain-g.share)
			total += w[i]
		}
	}
	if total == 0 {
		for i := range m.Legs {
			if g := &m.Legs[i]; g.social.quoted {
				w[i] = g.social.capacity
			}
		}
	}
	out := market.Split(max(short, 0), w, nil)
	for i := range out {
		out[i] = min(out[i], m.Legs[i].social.capacity)
	}
	return out
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
	return m.checkDone()
}

// SetAsidesDue counts the socialized legs' set-asides asked and not
// answered yet (the IOC orders wait for them).
func (m *Machine) SetAsidesDue() int { return m.quotes }

func (m *Machine) socialize(i int, deficit, release market.Money, mark book.Ticks) {
	g := &m.Legs[i]
	se := g.socialEffects()
	se.socialize = Socialize{Leg: i, Side: sideOf(g.Qty), Deficit: deficit, Release: release, Mark: mark}
	m.emit(&se.socialize)
}
