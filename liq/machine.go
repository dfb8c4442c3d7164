package liq

import (
	"errors"
	"fmt"
	"time"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
)

// ErrInvariant marks a Step the protocol's bookkeeping cannot absorb.
var ErrInvariant = errors.New("liq: broken invariant")

// Config holds what a Machine takes from the exchange.
type Config struct {
	// Retry is the wait after an ADL round that closed nothing; it doubles
	// with every such round in a row, up to Retry << MaxBackoff.
	Retry time.Duration
	// NewID issues the IOC orders' ids from the exchange's order-id
	// sequence.
	NewID func() book.OrderID
}

// MaxBackoff caps the doubling of Config.Retry.
const MaxBackoff = 10

// Leg is one position of the liquidation and the protocol's state around
// it.
type Leg struct {
	*risk.LiquidationLeg
	// Socialized: the leg's symbol spreads a shortfall over the winners
	// (market.ADLSocialized) instead of leaving it to the fund.
	Socialized bool

	// ADL round: asked while a deleverage request is out; planned once
	// its plan arrived; pending counts closes not yet answered, expect
	// the planned quantity not yet answered; progress records whether
	// the round closed anything, idle the rounds in a row that did not.
	// (The flags sit next to Socialized: one word for all five.)
	asked, planned, progress bool
	offered                  bool // offered to ADL at least once

	quote Quote        // the book's quote for the leg (set on Reserved)
	share market.Money // the leg's share of the reservation
	order book.OrderID // the leg's IOC order while it is in the book

	pending int
	expect  book.Lots
	idle    int

	social social
	eff    legEffects
	// funding is the leg's funding (+ received, − paid) in Base but not
	// yet in its bankruptcy price: it moves the price once neither its IOC
	// order nor an ADL round is out (rebase), since their fills and
	// closes are booked at the price they were sent with. kept is what
	// moved no price (the leg closed first, or its tick is a clamp): it
	// stays in the settlement, the fund's (or the winners') like any
	// deficit.
	funding, kept market.Money
	// closers are the closes booked while funding waits for the round's
	// end (Account 0: a CloseAgainst); if the round closes the whole leg,
	// they pay or receive it (adjustCloses: adjusts, adjusting not
	// answered yet).
	closers   []closer
	adjusts   []AdjustClose
	adjusting int
	// deferred are counterparty closes waiting for the leg's plan
	// (CloseAgainst).
	deferred []AnswerClose
}

// closer is one close of a leg's ADL round: Qty lots closed by Account
// (0: another liquidation's leg, CloseAgainst).
type closer struct {
	Account book.AccountID
	Qty     book.Lots
}

// Offered reports whether the leg's remainder was offered to ADL (the
// ranking holds it from then on, see RankedCost).
func (g *Leg) Offered() bool { return g.offered }

// Machine is one liquidation (see the package doc).
type Machine struct {
	L   *risk.Liquidation
	Res fund.ReservationID // the fund reservation's id
	cfg Config

	Legs      []Leg
	reserved  bool // the fund answered the reservation
	settled   bool
	abandoned bool
	amount    market.Money // what it reserved
	quotes    int          // socialized legs' set-aside quotes not answered yet
	// collecting counts the socialized legs collecting their escrow
	// (social.go); payers are the winners' payments, refunds the refunds
	// emitted; socialEnd: the settlement's socialization started, pay what
	// the winners' payments give the fund.
	collecting int
	payers     []Payer
	refunds    []Refund
	socialEnd  bool
	pay        market.Money
	out        []Effect

	// Room for the common case (one leg) inside the machine's one
	// allocation: its leg, the Reserve's leg, the pending effects (a
	// single-leg Step emits one or two; more grow out once and stay).
	legBuf   [1]Leg
	quoteBuf [1]QuoteLeg
	outBuf   [2]Effect
	eff      struct {
		reserve Reserve
		settle  Settle
		release Release
	}
}

// Start takes over sym's liquidatable position (isolated) or every cross
// position of a (risk.Account.StartLiquidation) and asks for the fund's
// coverage: the first effect is a Reserve. It returns the open orders the
// caller must cancel first (so the book quotes without them), and risk's
// code when a is not liquidatable. socialized tells which symbols spread a
// shortfall over the winners.
func Start(a *risk.Account, sym *market.Symbol, res fund.ReservationID, cfg Config, socialized func(*market.Symbol) bool) (*Machine, []book.OrderID, risk.Code) {
	m := new(Machine)
	cancels, code := StartInto(m, a, sym, res, cfg, socialized)
	if code != risk.OK {
		return nil, nil, code
	}
	return m, cancels, risk.OK
}

// StartInto is Start into a Machine the caller holds, e.g. inside its own
// struct so that one allocation holds both: it overwrites the whole of *m,
// and leaves it untouched when a is not liquidatable. The machine's slices
// point into it, so it must not be copied after StartInto.
func StartInto(m *Machine, a *risk.Account, sym *market.Symbol, res fund.ReservationID, cfg Config, socialized func(*market.Symbol) bool) ([]book.OrderID, risk.Code) {
	l, cancels, code := a.StartLiquidation(sym)
	if code != risk.OK {
		return nil, code
	}
	*m = Machine{L: l, Res: res, cfg: cfg}
	m.Legs, m.out = m.legBuf[:0], m.outBuf[:0]
	r := Reserve{ID: res, Base: l.Deficit, Legs: m.quoteBuf[:0]}
	for i := range l.Legs {
		g := &l.Legs[i]
		m.Legs = append(m.Legs, Leg{LiquidationLeg: g, Socialized: socialized(g.Symbol)})
		if lg := &m.Legs[len(m.Legs)-1]; lg.Socialized {
			lg.socialEffects() // allocated here, so that Steps allocate none
		}
		r.Legs = append(r.Legs, QuoteLeg{Symbol: g.Symbol, Qty: g.Remaining, Bankruptcy: g.Bankruptcy, Bound: g.PriceBound()})
	}
	m.eff.reserve = r
	m.emit(&m.eff.reserve)
	return cancels, risk.OK
}

// Ready returns the effects the Steps since the last call asked for, in
// order, as pointers (*PlaceIOC, ...; see legEffects); the slice is
// reused by the next Step.
func (m *Machine) Ready() []Effect {
	out := m.out
	m.out = m.out[:0]
	return out
}

func (m *Machine) emit(e Effect) { m.out = append(m.out, e) }

// Effects are pointers into the machine (each leg and the machine keep one
// of each kind), so a Step allocates none. An effect stays valid until it
// is answered: the machine emits the next one of a kind for a leg only
// after the previous one's answer (or, for Release and ReleaseSocial, once
// per grant). A socialized leg's own effects are out of line (social),
// allocated with the leg: most legs never emit one.
type legEffects struct {
	place      PlaceIOC
	deleverage Deleverage
	retry      RetryAfter
	reprice    Reprice
	social     *socialEffects
}

// socialEffects are the effects only a socialized leg emits.
type socialEffects struct {
	quoteSocial QuoteSocial
	socialize   Socialize
	release     ReleaseSocial
}

// socialEffects returns the leg's socialized-loss effects, allocating them
// the first time (Start does for every socialized leg).
func (g *Leg) socialEffects() *socialEffects {
	if g.eff.social == nil {
		g.eff.social = new(socialEffects)
	}
	return g.eff.social
}

// Settled reports whether the Settle effect was emitted: the liquidation
// is over.
func (m *Machine) Settled() bool { return m.settled }

// Leg returns the index of sym's leg, -1 when there is none.
func (m *Machine) Leg(sym *market.Symbol) int {
	for i := range m.Legs {
		if m.Legs[i].Symbol == sym {
			return i
		}
	}
	return -1
}

// Owns reports whether id is one of the liquidation's IOC orders.
func (m *Machine) Owns(id book.OrderID) bool {
	for i := range m.Legs {
		if m.Legs[i].order == id && id != 0 {
			return true
		}
	}
	return false
}

func (m *Machine) broken(format string, args ...any) error {
	return fmt.Errorf("%w: liquidation %d of account %d: %s", ErrInvariant, m.Res, m.L.Account, fmt.Sprintf(format, args...))
}

// Step feeds one input to the machine; its effects are then in Ready.
func (m *Machine) Step(in Input) error {
	if m.settled {
		return m.broken("%s after the settlement", inputName(in))
	}
	if m.abandoned {
		return m.afterAbandon(in)
	}
	switch in := in.(type) {
	case Reserved:
		return m.onReserved(in)
	case SocialCap:
		return m.onSocialCap(in)
	case IOCDone:
		return m.onIOCDone(in)
	case ADLPlan:
		return m.onADLPlan(in)
	case ADLFilled:
		return m.onADLFilled(in)
	case TimerFired:
		return m.onTimer(in)
	case SocialPlan:
		return m.onSocialPlan(in)
	case SocialCharged:
		return m.onSocialCharged(in)
	case Funding:
		return m.onFunding(in)
	case OrderFill:
		return m.onOrderFill(in)
	case CloseAdjusted:
		return m.onCloseAdjusted(in)
	}
	return m.broken("unknown input %s", inputName(in))
}

func (m *Machine) leg(i int) (*Leg, error) {
	if i < 0 || i >= len(m.Legs) {
		return nil, m.broken("no leg %d", i)
	}
	return &m.Legs[i], nil
}

func (m *Machine) onReserved(in Reserved) error {
	if m.reserved || len(in.Quotes) != len(m.Legs) {
		return m.broken("reservation answered twice or for %d legs of %d", len(in.Quotes), len(m.Legs))
	}
	m.reserved, m.amount = true, in.Amount
	for i := range m.Legs {
		m.Legs[i].quote = in.Quotes[i]
	}
	m.share()
	m.escrow()
	for i := range m.Legs {
		g := &m.Legs[i]
		// Quoted even with nothing to collect: a deficit that comes
		// later (its funding, kept) is spread over this set-aside.
		if g.Socialized && g.Remaining != 0 {
			m.quotes++
			se := g.socialEffects()
			se.quoteSocial = QuoteSocial{Leg: i, Side: sideOf(g.Qty)}
			m.emit(&se.quoteSocial)
		}
	}
	if m.quotes > 0 {
		return nil // the orders go out once every set-aside is quoted
	}
	return m.sendOrders()
}

func (m *Machine) onSocialCap(in SocialCap) error {
	g, err := m.leg(in.Leg)
	if err != nil {
		return err
	}
	if g.social.quoted || m.quotes == 0 {
		return m.broken("set-aside for leg %d not asked", in.Leg)
	}
	sc := &g.social
	sc.quoted, sc.capacity = true, in.Amount
	if want := min(sc.want, sc.capacity); want > 0 {
		sc.asked, sc.rounds = true, 1
		m.collecting++
		m.socialize(in.Leg, want, 0)
	} else {
		sc.escrowed = true
	}
	if m.quotes--; m.quotes == 0 && m.collecting == 0 {
		return m.sendOrders()
	}
	return nil
}

// share splits what the reservation leaves beyond the base deficit over
// the legs by their quoted need (market.Split, legs in takeover order).
func (m *Machine) share() {
	room := max(0, m.amount-m.L.Deficit) // what the IOC orders may lose
	var wbuf, sbuf [4]market.Money       // most liquidations have few legs: no allocation
	w := wbuf[:0]
	for i := range m.Legs {
		w = append(w, m.Legs[i].quote.Need)
	}
	for i, s := range market.Split(room, w, sbuf[:0]) {
		m.Legs[i].share = s
	}
}

// sendOrders places each open leg's IOC order at Liquidation.OrderLimit
// for its budget (its share of the reservation, and on a socialized leg
// its escrow); a leg whose limit is out of range goes to ADL at once.
func (m *Machine) sendOrders() error {
	for i := range m.Legs {
		g := &m.Legs[i]
		if g.Remaining == 0 {
			continue
		}
		limit := m.L.OrderLimit(g.Symbol, g.budget(), g.quote.Mark)
		if limit <= 0 {
			if err := m.askADL(i); err != nil {
				return err
			}
			continue
		}
		side := book.Sell
		if g.Remaining < 0 {
			side = book.Buy
		}
		g.order = m.cfg.NewID()
		g.eff.place = PlaceIOC{Leg: i, ID: g.order, Side: side, Price: limit, Qty: abs(g.Remaining)}
		m.emit(&g.eff.place)
	}
	return m.checkDone()
}

func (m *Machine) onIOCDone(in IOCDone) error {
	i, err := m.bookIOC(in)
	if err != nil {
		return err
	}
	g := &m.Legs[i]
	if _, err := m.rebase(i); err != nil {
		return err
	}
	if g.Remaining != 0 {
		return m.askADL(i)
	}
	return m.checkDone()
}

// bookIOC books an IOC order's fills on its leg (i) and marks the order
// done.
func (m *Machine) bookIOC(in IOCDone) (i int, err error) {
	i = -1
	for j := range m.Legs {
		if in.ID != 0 && m.Legs[j].order == in.ID {
			i = j
		}
	}
	if i < 0 {
		return i, m.broken("result of order %d, not a liquidation order", in.ID)
	}
	g := &m.Legs[i]
	g.order = 0
	for _, f := range in.Fills {
		if err := m.fill(g, f.Price, f.Qty, "fill"); err != nil {
			return i, err
		}
	}
	return i, nil
}

// fill books qty of leg g closed at price (risk.Liquidation.ApplyFill).
func (m *Machine) fill(g *Leg, price book.Ticks, qty book.Lots, what string) error {
	if code := m.L.ApplyFill(g.Symbol, price, qty); code != risk.OK {
		return m.broken("leg %s refused the %s %d at %d (remaining %d): %s", g.Symbol.Name, what, qty, price, g.Remaining, code)
	}
	return nil
}

// askADL offers leg i's remainder to ADL at its bankruptcy price (risk
// keeps the tick within [1, MaxPrice] and reserved what a clamp costs).
func (m *Machine) askADL(i int) error {
	g := &m.Legs[i]
	if g.asked || g.order != 0 {
		return nil
	}
	if g.Remaining == 0 {
		return m.checkDone()
	}
	g.asked, g.planned, g.progress, g.pending, g.expect, g.offered = true, false, false, 0, 0, true
	g.eff.deleverage = Deleverage{Leg: i, Price: g.Bankruptcy, Qty: g.Remaining, Cost: RankedCost(g.LiquidationLeg)}
	m.emit(&g.eff.deleverage)
	return nil
}

func (m *Machine) adlLeg(i int) (*Leg, error) {
	g, err := m.leg(i)
	if err != nil {
		return nil, err
	}
	if !g.asked {
		return nil, m.broken("ADL answer for leg %s, which asked nothing", g.Symbol.Name)
	}
	return g, nil
}

func (m *Machine) onADLPlan(in ADLPlan) error {
	g, err := m.plan(in)
	if err != nil {
		return err
	}
	if err := m.answerDeferred(g, false); err != nil {
		return err
	}
	return m.roundStep(in.Leg)
}

func (m *Machine) onADLFilled(in ADLFilled) error {
	g, err := m.adlLeg(in.Leg)
	if err != nil {
		return err
	}
	g.pending--
	g.expect -= in.Asked
	if in.Qty > 0 {
		g.progress = true
		if err := m.fill(g, g.Bankruptcy, in.Qty, "ADL close"); err != nil {
			return err
		}
		g.closed(in.Account, in.Qty)
	}
	return m.roundStep(in.Leg)
}

// plan books an ADL plan on the leg that asked: the closes and lots its
// round now waits for.
func (m *Machine) plan(in ADLPlan) (*Leg, error) {
	g, err := m.adlLeg(in.Leg)
	if err != nil {
		return nil, err
	}
	if g.planned {
		return nil, m.broken("second ADL plan for leg %s", g.Symbol.Name)
	}
	g.planned = true
	g.pending += in.Closes
	g.expect += in.Covered
	return g, nil
}

// roundStep ends an ADL round once the plan and every answer are in:
// done, ask again at once (the round made progress), or after a backoff
// (the ranking was stale or the opposite side empty).
func (m *Machine) roundStep(i int) error {
	g := &m.Legs[i]
	if !g.planned || g.pending != 0 {
		return nil
	}
	g.asked = false
	moved, err := m.rebase(i)
	if err != nil {
		return err
	}
	switch {
	case g.Remaining == 0:
		return m.checkDone()
	case g.progress:
		g.idle = 0
		return m.askADL(i) // its Deleverage reports the price
	}
	m.reprice(i, moved)
	g.idle++
	g.eff.retry = RetryAfter{Leg: i, After: m.cfg.Retry << min(g.idle-1, MaxBackoff)}
	m.emit(&g.eff.retry)
	return nil
}

// onFunding books a funding payment of the leg's remainder, paid or
// received at a funding time while the liquidation holds it: the
// liquidation's equity takes it (risk's Liquidation.Funding) and the leg's
// bankruptcy price moves by it (rebase), so its IOC order's limit, its
// ADL closes and the settlement count it like the rest of the margin: a
// payment the book or the ADL counterparties cover at the new price, or
// the fund or the winners with the rest of the deficit; a payment
// received lowers the deficit.
func (m *Machine) onFunding(in Funding) error {
	g, err := m.leg(in.Leg)
	if err != nil {
		return err
	}
	if g.Remaining == 0 {
		return m.broken("funding of %d for leg %s, closed", in.Amount, g.Symbol.Name)
	}
	return m.credit(in.Leg, in.Amount)
}

// credit books amount (+ received, − paid) into the liquidation's equity
// for leg i and moves its bankruptcy price by it (onFunding).
func (m *Machine) credit(i int, amount market.Money) error {
	g := &m.Legs[i]
	m.L.Funding(amount)
	g.funding += amount
	moved, err := m.rebase(i)
	if err == nil {
		m.reprice(i, moved)
	}
	return err
}

// Closing is how many lots of a fill on side of one of the account's own
// orders in sym close the liquidation's leg there (its remainder, when
// side is the leg's closing side), and the leg's index: those lots are
// the leg's to book (OrderFill), never the flat account's position to
// reopen. 0 without such a leg, or once the liquidation is over.
func (m *Machine) Closing(sym *market.Symbol, side book.Side) (leg int, lots book.Lots) {
	i := m.Leg(sym)
	if i < 0 || m.settled || m.abandoned || m.Legs[i].Remaining*book.Lots(side.Sign()) >= 0 {
		return -1, 0
	}
	return i, abs(m.Legs[i].Remaining)
}

// onOrderFill books an OrderFill on its leg. The book matched the order
// before the takeover's cancel and so before the quote that precedes the
// reservation: a fill after it would meet the leg's own IOC order, which
// counts on the whole remainder. What the fill cost beyond the leg's
// bankruptcy price (its loss there, risk's ApplyOrderFill, and its fee)
// is the equity's (spread).
func (m *Machine) onOrderFill(in OrderFill) error {
	g, err := m.leg(in.Leg)
	if err != nil {
		return err
	}
	if m.reserved {
		return m.broken("a fill of the account's order of %d at %d for leg %s after the reservation", in.Qty, in.Price, g.Symbol.Name)
	}
	loss, code := m.L.ApplyOrderFill(g.Symbol, in.Price, in.Qty, in.Value)
	if code != risk.OK {
		return m.broken("leg %s refused the account's fill of %d at %d (remaining %d): %s", g.Symbol.Name, in.Qty, in.Price, g.Remaining, code)
	}
	return m.spread(in.Leg, loss-in.Fee)
}

// spread books amount (≤ 0), a cost of leg i's order fill beyond its
// bankruptcy price, into the equity over the legs with lots left whose
// tick can move (not a clamp), by their remaining notional at their mark
// (market.Split), moving each one's bankruptcy price (credit): their IOC
// limits, bounds and ADL closes then take it back as they would the rest
// of the loss, as a sequenced engine, having filled the order first, would
// have left them that much less equity; the fund reserved nothing for it.
// With no such leg it stays with leg i (kept when closed: the fund's, or
// the winners', with the rest of the deficit).
func (m *Machine) spread(i int, amount market.Money) error {
	if amount == 0 {
		return nil
	}
	var wbuf, pbuf [4]market.Money
	w := wbuf[:0]
	var sum market.Money
	for j := range m.Legs {
		var n market.Money
		if g := &m.Legs[j]; g.Remaining != 0 && g.Deficit == 0 {
			n = g.Symbol.Notional(g.Mark, abs(g.Remaining))
		}
		w = append(w, n)
		sum += n
	}
	if sum == 0 {
		return m.credit(i, amount)
	}
	for j, part := range market.Split(-amount, w, pbuf[:0]) {
		if part == 0 {
			continue
		}
		if err := m.credit(j, -part); err != nil {
			return err
		}
	}
	return nil
}

// rebase moves leg i's bankruptcy price by its funding not yet in it,
// unless its IOC order is in the book or an ADL round is out (their fills
// and closes are booked at the price they were sent with: the round's end
// or the order's result moves it then, over the lots left; a round that
// closed the whole leg passes it to its counterparties, adjustCloses).
// moved reports whether the price moved.
func (m *Machine) rebase(i int) (moved bool, err error) {
	g := &m.Legs[i]
	if g.funding == 0 || g.order != 0 || g.asked {
		return false, nil
	}
	d := g.funding
	g.funding = 0
	if g.Remaining == 0 {
		g.kept += m.adjustCloses(i, d)
		return false, nil
	}
	g.closers = g.closers[:0]
	deficit := g.Deficit
	moved, code := m.L.MoveBankruptcy(g.Symbol, d)
	if code != risk.OK {
		return false, m.broken("leg %s refused to move its bankruptcy price by %d: %s", g.Symbol.Name, d, code)
	}
	if deficit > 0 { // a clamped tick stays
		g.kept += d
	} else if g.Deficit > 0 { // clamped now: what the tick could not take
		g.kept -= g.Deficit
	}
	return moved, nil
}

// reprice tells the ranking the leg's new bankruptcy price when it moved
// while the remainder is offered and no round is out (a round's
// Deleverage carries it).
func (m *Machine) reprice(i int, moved bool) {
	g := &m.Legs[i]
	if !moved || !g.offered || g.asked {
		return
	}
	g.eff.reprice = Reprice{Leg: i, Price: g.Bankruptcy, Qty: g.Remaining, Cost: RankedCost(g.LiquidationLeg)}
	m.emit(&g.eff.reprice)
}

func (m *Machine) onTimer(in TimerFired) error {
	if _, err := m.leg(in.Leg); err != nil {
		return err
	}
	return m.askADL(in.Leg)
}

// CloseAgainst is the liquidation's side of another bankrupt leg's ADL
// close, sent to this account as a ranked counterparty: sym's leg on the
// opposite side closes what it can of qty at price, only at a price no
// worse than its own bankruptcy price (so its deficit stays within its
// reservation) and only what no ADL plan of its own already counts on. It
// returns the quantity closed; the caller answers the other liquidation.
//
// While the leg's own deleverage request is out and not planned yet, what
// that plan counts on is unknown: the close waits (deferred) and is
// answered by an AnswerClose effect, carrying token, once the plan is in.
// (Refusing it instead lets two opposite bankrupt legs, each the other's
// only counterparty, retry against each other in lockstep forever.)
func (m *Machine) CloseAgainst(sym *market.Symbol, side book.Side, qty book.Lots, price book.Ticks, token uint64) (done book.Lots, deferred bool, err error) {
	if m.settled || m.abandoned {
		return 0, false, nil
	}
	i := m.Leg(sym)
	if i < 0 {
		return 0, false, nil
	}
	g := &m.Legs[i]
	want := book.Lots(side.Sign()) // the sign of the positions the close is for
	if g.Remaining*want <= 0 || !m.reserved || m.SetAsidesDue() > 0 || g.order != 0 || qty <= 0 {
		return 0, false, nil // before the IOC orders went out (reserving, setting aside, collecting) or while one is in the book
	}
	if (want > 0 && price < g.Bankruptcy) || (want < 0 && price > g.Bankruptcy) {
		return 0, false, nil
	}
	if g.asked && !g.planned {
		g.deferred = append(g.deferred, AnswerClose{Leg: i, Token: token, Asked: qty, Price: price})
		return 0, true, nil
	}
	done, err = m.closeLeg(g, qty, price)
	if err != nil {
		return 0, false, err
	}
	return done, false, m.checkDone()
}

// closeLeg closes what it can of qty lots of g at price for a
// counterparty close: what g's own plan does not count on.
func (m *Machine) closeLeg(g *Leg, qty book.Lots, price book.Ticks) (book.Lots, error) {
	done := max(0, min(qty, abs(g.Remaining)-g.expect))
	if done == 0 {
		return 0, nil
	}
	if code := m.L.ApplyFill(g.Symbol, price, done); code != risk.OK {
		return 0, m.broken("leg %s refused a close of %d at %d as a counterparty: %s", g.Symbol.Name, done, price, code)
	}
	g.closed(0, done)
	return done, nil
}

// closed notes qty lots of g closed by account (0: another liquidation's
// leg) while a funding payment waits for the round's end (adjustCloses).
func (g *Leg) closed(account book.AccountID, qty book.Lots) {
	if g.funding != 0 {
		g.closers = append(g.closers, closer{Account: account, Qty: qty})
	}
}

// adjustCloses passes leg i's funding d (+ received, − paid), which came
// while its ADL round was out, to the accounts whose closes of the round
// closed the whole leg after it at the price the round was sent with, pro
// rata to their lots (market.Split): had it come a moment earlier, they
// would have closed at the price it moved, paying it back (or being paid
// it). AdjustClose asks each; what they cannot pay, and the part of
// closes by other liquidations' legs, is returned: it stays in the
// settlement (kept), the fund's or the winners' like any deficit.
func (m *Machine) adjustCloses(i int, d market.Money) (rest market.Money) {
	g := &m.Legs[i]
	if len(g.closers) == 0 {
		return d
	}
	w := make([]market.Money, len(g.closers))
	for k, c := range g.closers {
		w[k] = market.Money(c.Qty)
	}
	parts := market.Split(abs(d), w, nil)
	for k, c := range g.closers {
		part := parts[k]
		if d < 0 {
			part = -part
		}
		if c.Account == 0 || part == 0 {
			rest += part
			continue
		}
		g.adjusts = append(g.adjusts, AdjustClose{Leg: i, Account: c.Account, Qty: c.Qty, Amount: part})
	}
	g.closers = nil
	g.adjusting = len(g.adjusts)
	for k := range g.adjusts { // after the slice stops growing: the effects point into it
		m.emit(&g.adjusts[k])
	}
	return rest
}

// onCloseAdjusted books a counterparty's answer to AdjustClose: what moved
// comes off (a receipt) or into (a payment) the leg's gain; what it could
// not pay stays kept.
func (m *Machine) onCloseAdjusted(in CloseAdjusted) error {
	g, err := m.adjusted(in)
	if err != nil {
		return err
	}
	g.kept += in.Asked - in.Amount
	return m.checkDone()
}

// adjusted checks and books a CloseAdjusted on its leg's gain (the
// counterparty booked its side).
func (m *Machine) adjusted(in CloseAdjusted) (*Leg, error) {
	g, err := m.leg(in.Leg)
	if err != nil {
		return nil, err
	}
	if g.adjusting == 0 || in.Asked == 0 || (in.Amount != 0 && (in.Amount > 0) != (in.Asked > 0)) || abs(in.Amount) > abs(in.Asked) {
		return nil, m.broken("leg %s: an adjustment of %d moved %d (%d due)", g.Symbol.Name, in.Asked, in.Amount, g.adjusting)
	}
	g.adjusting--
	g.Gain -= in.Amount
	return g, nil
}

// answerDeferred closes and answers the counterparty closes that waited
// for leg g's plan (CloseAgainst); what they close counts as the round's
// progress. abandon answers them with nothing closed.
func (m *Machine) answerDeferred(g *Leg, abandon bool) error {
	for len(g.deferred) > 0 {
		d := &g.deferred[0]
		if !abandon {
			n, err := m.closeLeg(g, d.Asked, d.Price)
			if err != nil {
				return err // the ones not answered yet stay, for Abandon
			}
			d.Qty = n
			g.progress = g.progress || n > 0
		}
		m.emit(d)
		g.deferred = g.deferred[1:] // answered once; the effect keeps the entry
	}
	g.deferred = nil
	return nil
}

// checkDone settles a closed liquidation once no answer is due: after the
// winners' charges on socialized legs, one Settle effect with what the
// fund gets (+) or pays (−).
func (m *Machine) checkDone() error {
	if m.settled || !m.reserved || m.SetAsidesDue() > 0 || !m.L.Done() {
		return nil
	}
	for i := range m.Legs {
		if g := &m.Legs[i]; g.order != 0 || g.asked || g.adjusting > 0 {
			return nil // answers still due
		}
	}
	s, code := m.L.Settle()
	if code != risk.OK {
		return m.broken("settlement refused: %s", code)
	}
	if !m.socialized(s.Fund) {
		return nil // the winners' charges are due
	}
	var volume market.Money
	for i := range m.Legs {
		volume += m.Legs[i].Executed
	}
	m.settled = true
	m.emitRefunds()
	m.eff.settle = Settle{ID: m.Res, Fund: s.Fund + m.pay, Fee: s.Fee, Volume: volume, Symbol: m.Legs[0].Symbol}
	m.emit(&m.eff.settle)
	return nil
}

// Abandon gives back what the liquidation holds for others when its
// account can no longer run it (it failed): the reservation, every
// set-aside not yet released and every winner's payment. Answers still due
// are then absorbed by Step, giving back what they grant.
func (m *Machine) Abandon() []Effect {
	if m.abandoned || m.settled {
		return m.Ready()
	}
	m.abandoned = true
	if m.reserved {
		m.releaseReservation()
	}
	for i := range m.Legs {
		if sc := &m.Legs[i].social; sc.quoted && !sc.released {
			m.releaseSocial(i, sc.capacity)
		}
		_ = m.answerDeferred(&m.Legs[i], true) // cannot fail: closes nothing
	}
	for k := range m.payers {
		m.refundOne(k, m.payers[k].Paid)
	}
	m.emitRefunds()
	return m.Ready()
}

// afterAbandon gives back what an answer arriving after Abandon grants,
// and books on its legs what the market did to them meanwhile: an IOC's
// fills and the ADL closes its counterparties made at the bankruptcy
// price (they booked their side; the frozen legs stay the other side, so
// open interest and money still add up). It also counts the answers down
// as a live machine does, asking nothing again, so that Quiet can tell
// when none is due.
func (m *Machine) afterAbandon(in Input) error {
	switch in := in.(type) {
	case IOCDone:
		i, err := m.bookIOC(in)
		if err == nil {
			m.keepFunding(&m.Legs[i])
		}
		return err
	case CloseAdjusted:
		_, err := m.adjusted(in)
		return err
	case ADLPlan:
		g, err := m.plan(in)
		if err != nil {
			return err
		}
		m.abandonedRound(g)
	case ADLFilled:
		g, err := m.leg(in.Leg)
		if err != nil {
			return err
		}
		if in.Qty > 0 { // booked whatever the counters say: the counterparty booked its side
			if err := m.fill(g, g.Bankruptcy, in.Qty, "ADL close"); err != nil {
				return err
			}
		}
		if g.asked {
			g.pending--
			g.expect -= in.Asked
			m.abandonedRound(g)
		}
	case TimerFired: // moot: it asks nothing again, so Quiet does not wait for it
		_, err := m.leg(in.Leg)
		return err
	case Reserved:
		if !m.reserved {
			m.reserved = true
			m.releaseReservation()
		}
	case SocialCap:
		if in.Leg >= 0 && in.Leg < len(m.Legs) {
			if sc := &m.Legs[in.Leg].social; !sc.quoted && m.quotes > 0 {
				m.quotes-- // answered: nothing to collect, the set-aside goes back
				sc.quoted, sc.escrowed, sc.capacity = true, true, in.Amount
			}
			m.releaseSocial(in.Leg, in.Amount)
		}
	case SocialPlan:
		if in.Leg >= 0 && in.Leg < len(m.Legs) {
			if sc := &m.Legs[in.Leg].social; sc.asked && !sc.planned {
				sc.planned = true
				sc.pending += in.N
				m.abandonedSocialRound(sc)
			}
		}
	case SocialCharged:
		if in.Leg < 0 || in.Leg >= len(m.Legs) {
			return nil
		}
		g := &m.Legs[in.Leg]
		if in.Paid > 0 {
			m.refunds = append(m.refunds[:0], Refund{Leg: in.Leg, Side: sideOf(g.Qty), Account: in.Account, Amount: in.Paid, Qty: in.Qty, Closed: in.Closed})
			m.emit(&m.refunds[0])
		}
		if sc := &g.social; sc.asked {
			sc.pending--
			m.abandonedSocialRound(sc)
		}
	}
	return nil
}

// abandonedRound ends an abandoned leg's ADL round once its plan and every
// answer are in: nothing is asked again.
func (m *Machine) abandonedRound(g *Leg) {
	if !g.planned || g.pending > 0 {
		return
	}
	g.asked, g.planned, g.pending, g.expect = false, false, 0, 0
	m.keepFunding(g)
}

// keepFunding keeps an abandoned leg's funding that waited for its order
// or round: it moves no price any more (a live leg's would, rebase).
func (m *Machine) keepFunding(g *Leg) {
	if g.order != 0 || g.asked {
		return
	}
	g.kept += g.funding
	g.funding, g.closers = 0, nil
}

// abandonedSocialRound ends an abandoned leg's socialized-loss round once
// its plan and every charge's answer are in (each payment was refunded as
// it came): nothing is spread again, and an escrow being collected is
// over.
func (m *Machine) abandonedSocialRound(sc *social) {
	if !sc.planned || sc.pending > 0 {
		return
	}
	if !sc.escrowed {
		sc.escrowed = true
		m.collecting--
	}
	sc.asked, sc.planned, sc.pending, sc.unpaid, sc.roundPaid, sc.rounds = false, false, 0, 0, 0, 0
}

// Quiet reports whether nothing more can reach the machine: it was
// abandoned, and no answer it asked for is due — the fund's reservation
// and every set-aside answered, no IOC order in a book, no ADL round, close
// adjustment or socialized-loss round out (a retry timer is moot once
// abandoned: its firing changes nothing). What it booked is
// then final (a live machine is never quiet: it settles or waits).
func (m *Machine) Quiet() bool {
	if !m.abandoned || !m.reserved || m.SetAsidesDue() > 0 {
		return false
	}
	for i := range m.Legs {
		g := &m.Legs[i]
		if g.order != 0 || g.asked || g.adjusting > 0 || g.social.asked || len(g.deferred) > 0 {
			return false
		}
	}
	return true
}

func (m *Machine) releaseReservation() {
	m.eff.release = Release{ID: m.Res}
	m.emit(&m.eff.release)
}

func (m *Machine) releaseSocial(i int, amount market.Money) {
	g := &m.Legs[i]
	se := g.socialEffects()
	g.social.released = true
	se.release = ReleaseSocial{Leg: i, Side: sideOf(g.Qty), Amount: amount}
	m.emit(&se.release)
}

// RankedCost is the entry cost of a leg's remainder as the ADL ranking
// holds it: the leg's cost scaled to the remaining lots (at least 1). The
// remainder ranks with a token margin: a bankrupt leg has no collateral,
// so it ranks last, as a losing position.
func RankedCost(g *risk.LiquidationLeg) market.Money {
	if g.Qty == 0 {
		return 1
	}
	c := market.MustMulDiv(int64(abs(g.Cost)), int64(abs(g.Remaining)), int64(abs(g.Qty)), false)
	return max(market.Money(c), 1)
}

func sideOf(q book.Lots) book.Side {
	if q < 0 {
		return book.Sell
	}
	return book.Buy
}

func abs[T ~int64](v T) T {
	if v < 0 {
		return -v
	}
	return v
}

// Describe is the machine's state in one line, for the log line of a
// broken invariant.
func (m *Machine) Describe() string {
	out := fmt.Sprintf("liquidation %d of account %d: reserved=%v amount=%d base=%d deficit=%d settled=%v abandoned=%v collecting=%d socialEnd=%v pay=%d payers=%v",
		m.Res, m.L.Account, m.reserved, m.amount, m.L.Base, m.L.Deficit, m.settled, m.abandoned, m.collecting, m.socialEnd, m.pay, m.payers)
	for i := range m.Legs {
		g := &m.Legs[i]
		out += fmt.Sprintf(" [%s qty %d rem %d bk %d gain %d need %d share %d order %d asked %v planned %v pending %d expect %d idle %d funding %d kept %d closers %v adjusting %d social %+v]",
			g.Symbol.Name, g.Qty, g.Remaining, g.Bankruptcy, g.Gain, g.quote.Need, g.share, g.order, g.asked, g.planned, g.pending, g.expect, g.idle, g.funding, g.kept, g.closers, g.adjusting, g.social)
	}
	return out
}
