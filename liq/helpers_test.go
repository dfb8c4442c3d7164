package liq

// A small synchronous exchange around the pure cores, wired the way the
// actors wire them (actors/liquidation.go, socialize.go, adl.go, fund.go,
// account.go, symbol.go), without goroutines: every message between two
// "actors" (an account, a symbol's book, the fund, the ADL ranking, the
// timers) is queued on its (sender, receiver) channel, FIFO like a mailbox
// fed by one sender, and delivered one at a time — the oldest first (FIFO
// mode, the rule tests) or from a channel a seeded RNG picks (the property
// test), so liquidations interleave in any causally valid order. After
// every delivery the world checks the money identity, open-interest
// symmetry and the fund, counting what the queued messages carry.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/perpx/perpx/adl"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/fund"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/risk"
	"github.com/shopspring/decimal"
)

const quoteAsset = "USDT"

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// usdt converts a decimal string to Money.
func usdt(s string) market.Money {
	m, ok := market.MoneyFromDecimal(dec(s))
	if !ok {
		panic(s)
	}
	return m
}

// symSpec is a tick-1 lot-1 symbol, band 50 %, max leverage 100 (actors'
// testSymbol), optionally socialized, with fees and paying funding (the
// sim's funding times; the rule tests call world.funding).
type symSpec struct {
	name                 string
	socialized, funding  bool
	tiers                [][2]string
	maker, taker, liqFee string // "" is 0
	slippage             string // "" is the default
}

func compile(tb testing.TB, s symSpec) *market.Symbol {
	tb.Helper()
	funding := s.funding
	cfg := market.SymbolConfig{Symbol: s.name, Tick: dec("1"), Lot: dec("1"), MaxLeverage: dec("100"),
		PriceBand: dec("0.5"), Funding: &funding}
	if s.socialized {
		cfg.ADLMode = "socialized"
	}
	for _, f := range []struct {
		dst *decimal.Decimal
		v   string
	}{{&cfg.MakerFee, s.maker}, {&cfg.TakerFee, s.taker}, {&cfg.LiquidationFee, s.liqFee}} {
		if f.v != "" {
			*f.dst = dec(f.v)
		}
	}
	if s.slippage != "" {
		v := dec(s.slippage)
		cfg.LiquidationSlippage = &v
	}
	for _, tr := range s.tiers {
		cfg.MMTiers = append(cfg.MMTiers, market.TierConfig{MaxNotional: dec(tr[0]), MMR: dec(tr[1])})
	}
	sym, err := cfg.Compile()
	if err != nil {
		tb.Fatal(err)
	}
	if s.socialized != (sym.ADL == market.ADLSocialized) {
		tb.Fatalf("%s: adl mode %v", s.name, sym.ADL)
	}
	return sym
}

// longTiers make a 1-lot long at 3750 with margin 750 liquidate at 3100
// with bankruptcy price 3000 (risk's worked example, actors' longTiers).
func longTiers() [][2]string { return [][2]string{{"3000", "0.03"}, {"1000000000", "0.10"}} }

// shortTiers make a 1-lot short at 2500 with margin 500 liquidate at 2900
// with bankruptcy price 3000.
func shortTiers() [][2]string { return [][2]string{{"1500", "0.02"}, {"1000000000", "0.05"}} }

// bigTiers make a 200-lot long at 3750 with margin 150000 liquidate at
// 3100 with bankruptcy price 3000 (MM = 0.1·N − 42000 above 600000).
func bigTiers() [][2]string { return [][2]string{{"600000", "0.03"}, {"1000000000", "0.10"}} }

func socialized(s *market.Symbol) bool { return s.ADL == market.ADLSocialized }

// ---- endpoints and channels ----

// ep is an actor: an account (its index), a symbol (symBase+i), the fund,
// the ADL ranking or the timers.
type ep int

const (
	symBase ep = 1000
	epFund  ep = 2000
	epADL   ep = 2001
	epTimer ep = 2002
)

func symEP(i int) ep { return symBase + ep(i) }

// msg is one message between actors; deliver runs the receiver's handler.
type msg interface{ deliver(w *world) }

// valued is a message carrying money or lots not yet booked by its
// receiver: pending returns the money and adds the position delta (per
// symbol) it will book.
type valued interface {
	pending(w *world, oi []book.Lots) market.Money
}

type envelope struct {
	seq uint64
	m   msg
}

type channel struct {
	from, to ep
	q        []envelope
	head     int
	slot     int // index in world.active, -1 when empty
}

// ---- accounts ----

type ord struct {
	sym  int
	side book.Side
}

// acct is an account actor's state: its risk.Account, its open orders,
// the position last reported to ADL per symbol, its liquidation.
type acct struct {
	idx      int
	id       book.AccountID
	name     string
	r        *risk.Account
	orders   map[book.OrderID]ord
	adl      []book.Lots
	m        *Machine
	deposits market.Money
}

func (a *acct) ep() ep { return ep(a.idx) }

// stats counts the paths the world went through.
type stats struct {
	steps, deliveries, actions                               int
	liquidations, settled, multiLeg, isolated                int
	iocFills, surplus, drawn                                 int
	adlCloses, closeAgainst, adlRounds, retries              int
	quotes, charges, unpaid, socialRounds, respread, refunds int
	deficits, reserveEmpty, reservePartial                   int
	trades, shortfalls, closeToLiq, closeDeferred            int
	uncoveredDeficits, uncoveredADL, overdrawn               int
	fundings, legFundings, fundingWaits                      int
	fundingKept, fundingUncovered                            int
	adjusts, adjustsUnpaid                                   int
}

func (s stats) String() string {
	return fmt.Sprintf("steps %d (deliveries %d, actions %d), liquidations %d (settled %d, multi-leg %d, isolated %d), "+
		"IOC fills %d, fund surplus %d / draws %d, reservations empty %d / partial %d, ADL rounds %d, ADL closes %d, CloseAgainst %d (of %d tries, %d deferred), retries %d, "+
		"set-asides %d, socialized rounds %d (re-spread %d), charges paid %d / unpaid %d, close deficits %d, trades %d, socialized settlements beyond the reservation %d (short of cover %d), close deficits uncovered %d (of which ADL closes %d), "+
		"funding times %d, legs paying or receiving %d (waiting for an order or round %d), settlements keeping some %d (uncovered %d), close adjustments %d (unpaid %d)",
		s.steps, s.deliveries, s.actions, s.liquidations, s.settled, s.multiLeg, s.isolated, s.iocFills, s.surplus, s.drawn,
		s.reserveEmpty, s.reservePartial, s.adlRounds, s.adlCloses, s.closeAgainst, s.closeToLiq, s.closeDeferred, s.retries, s.quotes, s.socialRounds,
		s.respread, s.charges, s.unpaid, s.deficits, s.trades, s.overdrawn, s.shortfalls, s.uncoveredDeficits, s.uncoveredADL,
		s.fundings, s.legFundings, s.fundingWaits, s.fundingKept, s.fundingUncovered, s.adjusts, s.adjustsUnpaid)
}

// world is the exchange.
type world struct {
	// deferred are the forced closes machines deferred, by token.
	deferred  map[uint64]*adlCloseMsg
	lastClose uint64

	t     testing.TB
	rng   *rand.Rand // nil: FIFO delivery
	syms  []*market.Symbol
	books []*book.Book
	ranks []*adl.Ranking
	marks []book.Ticks
	fund  *fund.Fund
	accts []*acct
	byID  map[book.AccountID]*acct

	// Ledgers outside the accounts and the fund.
	fees, deposits, fundDeposits market.Money
	// tolerate: the property test counts, instead of failing on, what the
	// fund could not pay in two known cases and checks everything else
	// (off in the rule tests): a socialized liquidation whose base deficit
	// beyond the reservation its winners could not pay (into its escrow,
	// nor in the rounds after the fill: shortfall; its IOC never loses
	// beyond its share and its escrow, see iocDone), and
	// a close beyond an account's cash (risk's FillResult.Deficit, drawn
	// without a reservation) while the fund's balance is all reserved
	// (TestADLCloseBeyondCounterpartyMargin: uncovered).
	tolerate             bool
	shortfall, uncovered market.Money

	ids    uint64 // order and reservation ids
	cfg    Config
	chans  map[[2]ep]*channel
	active []*channel
	queued int
	seq    uint64
	res    book.Result

	// The ADL actor's batch (actors/adl.go).
	pendingDL []*deleverageMsg
	flushing  bool

	machines []*Machine
	settles  map[*Machine]int
	// effects records every effect performed while record is set (the
	// rule tests read them).
	effects []Effect
	record  bool

	st       stats
	liqBySym []int
	oi       []book.Lots
	trace    func(string) // optional delivery log
}

func newWorld(t testing.TB, rng *rand.Rand, syms ...*market.Symbol) *world {
	f, err := fund.New(fund.Config{HistoryCap: 16})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, rng: rng, syms: syms, fund: f, byID: map[book.AccountID]*acct{}, deferred: map[uint64]*adlCloseMsg{},
		chans: map[[2]ep]*channel{}, settles: map[*Machine]int{}, marks: make([]book.Ticks, len(syms)),
		oi: make([]book.Lots, len(syms))}
	w.cfg = Config{Retry: time.Millisecond, NewID: w.newID}
	for _, s := range syms {
		mode := adl.ModeADL
		if socialized(s) {
			mode = adl.ModeSocialized
		}
		rk, err := adl.New(adl.Config{Symbol: s.Name, Multiplier: s.Multiplier, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		w.ranks = append(w.ranks, rk)
		w.books = append(w.books, book.New())
	}
	return w
}

func (w *world) newID() book.OrderID { w.ids++; return book.OrderID(w.ids) }

func (w *world) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("step %d: %s", w.st.steps, fmt.Sprintf(format, args...))
}

func (w *world) symIdx(s *market.Symbol) int {
	for i, x := range w.syms {
		if x == s {
			return i
		}
	}
	w.fatalf("unknown symbol %s", s.Name)
	return -1
}

// addAccount opens an account (mode risk.Cross or risk.Isolated) with a
// deposit.
func (w *world) addAccount(name string, mode risk.MarginMode, deposit market.Money) *acct {
	a := &acct{idx: len(w.accts), id: book.AccountID(len(w.accts) + 1), name: name, r: risk.NewAccount(book.AccountID(len(w.accts)+1), mode),
		orders: map[book.OrderID]ord{}, adl: make([]book.Lots, len(w.syms))}
	w.accts = append(w.accts, a)
	w.byID[a.id] = a
	if deposit > 0 {
		w.deposit(a, deposit)
	}
	return a
}

func (w *world) deposit(a *acct, m market.Money) bool {
	if a.r.Deposit(m) != risk.OK {
		return false
	}
	a.deposits += m
	w.deposits += m
	for i := range w.syms { // afterBackingChange
		if a.adl[i] != 0 {
			w.positionChanged(a, i, 0, false)
		}
	}
	return true
}

func (w *world) fundDeposit(m market.Money) {
	if _, err := w.fund.Deposit(quoteAsset, m, 0); err != nil {
		w.fatalf("fund deposit: %v", err)
	}
	w.fundDeposits += m
}

func (w *world) leverage(a *acct, si int, lev int64) {
	if c := a.r.SetLeverage(w.syms[si], lev); c != risk.OK {
		w.fatalf("%s leverage %d on %s: %s", a.name, lev, w.syms[si].Name, c)
	}
}

// setMark is a mark tick on symbol si: every account (actors: the
// subscribed ones) and the ranking get it; the accounts it makes
// liquidatable start their liquidation.
func (w *world) setMark(si int, mark book.Ticks) {
	if w.trace != nil {
		w.trace(fmt.Sprintf("mark %s %d", w.syms[si].Name, mark))
	}
	w.marks[si] = mark
	if err := w.ranks[si].SetMark(mark); err != nil {
		w.fatalf("ranking mark %d: %v", mark, err)
	}
	for _, a := range w.accts {
		if a.r.OnMark(w.syms[si], mark) {
			w.liquidate(a, si)
		}
	}
}

// funding is a funding time of symbol si at rate and the current mark
// (accountActor.onFunding): every position pays or receives it from cash
// or its margin, a leg a liquidation holds into the liquidation (Funding);
// the fees ledger is the other side (it keeps the rounding dust).
func (w *world) funding(si int, rate market.Rate) {
	s, mark := w.syms[si], w.marks[si]
	w.st.fundings++
	for _, a := range w.accts {
		if a.m != nil { // first: a position the payment liquidates is no leg yet
			if i := a.m.Leg(s); i >= 0 && a.m.Legs[i].Remaining != 0 {
				d := risk.FundingPayment(s, a.m.Legs[i].Remaining, rate, mark)
				if d != 0 {
					w.fees -= d
					w.st.legFundings++
					w.step(a, Funding{Leg: i, Amount: d})
					if a.m.Legs[i].funding != 0 {
						w.st.fundingWaits++
					}
				}
			}
		}
		if p, ok := a.r.Position(s); ok && p.Qty != 0 {
			res := a.r.ApplyFunding(s, rate, mark)
			w.fees -= res.Delta
			if res.Liquidate {
				w.liquidate(a, si)
			}
		}
	}
}

// ---- delivery ----

func (w *world) send(from, to ep, m msg) {
	k := [2]ep{from, to}
	ch := w.chans[k]
	if ch == nil {
		ch = &channel{from: from, to: to, slot: -1}
		w.chans[k] = ch
	}
	w.seq++
	w.queued++
	ch.q = append(ch.q, envelope{seq: w.seq, m: m})
	if ch.slot < 0 {
		ch.slot = len(w.active)
		w.active = append(w.active, ch)
	}
}

func (w *world) idle() bool { return len(w.active) == 0 }

// deliverOne delivers one message: the oldest (FIFO) or the head of a
// random channel; false when none is queued.
func (w *world) deliverOne() bool { return w.deliverWhere(nil) }

// deliverWhere delivers the oldest message on a channel ok accepts (any
// channel for nil; a random one in random mode); false when there is none.
func (w *world) deliverWhere(ok func(from, to ep) bool) bool {
	var ch *channel
	if w.rng == nil || ok != nil {
		for _, c := range w.active {
			if (ok == nil || ok(c.from, c.to)) && (ch == nil || c.q[c.head].seq < ch.q[ch.head].seq) {
				ch = c
			}
		}
	} else if len(w.active) > 0 {
		// A timer waits (RetryAfter) far longer than a message takes: its
		// channel is passed over most of the time while others have work.
		for range 8 {
			if ch = w.active[w.rng.IntN(len(w.active))]; ch.from != epTimer || w.rng.IntN(8) == 0 {
				break
			}
		}
	}
	if ch == nil {
		return false
	}
	e := ch.q[ch.head]
	w.queued--
	ch.q[ch.head] = envelope{}
	ch.head++
	if ch.head == len(ch.q) {
		ch.q, ch.head = ch.q[:0], 0
		last := w.active[len(w.active)-1]
		w.active[ch.slot], last.slot = last, ch.slot
		w.active = w.active[:len(w.active)-1]
		ch.slot = -1
	}
	if w.trace != nil {
		w.trace(fmt.Sprintf("%d→%d %T %+v", ch.from, ch.to, e.m, e.m))
	}
	w.st.steps++
	w.st.deliveries++
	e.m.deliver(w)
	return true
}

// drain delivers until nothing is queued, checking after every delivery.
func (w *world) drain() {
	w.t.Helper()
	for n := 0; w.deliverOne(); n++ {
		w.check("drain")
		if n > 1_000_000 {
			w.fatalf("no quiescence after %d deliveries", n)
		}
	}
}

// ---- the invariants ----

// check asserts, counting the queued messages' money and lots: Σ balances
// + Σ unrealized at the marks + Σ in-flight liquidations (Base + Σ legs'
// Gain + Value(mark − bankruptcy, Remaining) + what the winners paid) +
// fund + fees = Σ deposits + fund deposits; Σ positions = 0 per symbol;
// the fund ≥ 0 and consistent; no flat account below zero; every leg
// between 0 and its takeover size.
func (w *world) check(where string) {
	oi := w.oi
	clear(oi)
	total := w.fees + w.fund.Balance(quoteAsset)
	for _, a := range w.accts {
		total += a.r.Balance()
		open := false
		for i, s := range w.syms {
			if p, ok := a.r.Position(s); ok && p.Qty != 0 {
				total += s.PnL(p.Qty, p.Cost, w.marks[i])
				oi[i] += p.Qty
				open = true
			}
		}
		m := a.m
		if m == nil {
			if !open && (a.r.Balance() < 0 || a.r.Cash() < 0) {
				w.fatalf("%s: flat account with balance %s, cash %s", a.name, a.r.Balance(), a.r.Cash())
			}
			continue
		}
		if err := m.check(); err != nil && !m.abandoned {
			w.fatalf("%s: %s's machine: %v\n%s", where, a.name, err, m.Describe())
		}
		total += m.L.Base + m.Held()
		for j := range m.Legs {
			g := &m.Legs[j]
			i := w.symIdx(g.Symbol)
			total += g.Gain + g.Symbol.Value(w.marks[i]-g.Bankruptcy, g.Remaining)
			oi[i] += g.Remaining
			if (g.Remaining != 0 && (g.Remaining > 0) != (g.Qty > 0)) || abs(g.Remaining) > abs(g.Qty) {
				w.fatalf("%s: leg %s took over %d, remaining %d", a.name, g.Symbol.Name, g.Qty, g.Remaining)
			}
		}
	}
	for _, ch := range w.active {
		for _, e := range ch.q[ch.head:] {
			if v, ok := e.m.(valued); ok {
				total += v.pending(w, oi)
			}
		}
	}
	if want := w.deposits + w.fundDeposits + w.shortfall + w.uncovered; total != want {
		w.fatalf("%s: money not conserved: balances+unrealized+in-flight+fund+fees+queued = %s, deposits %s (diff %s)\n%s",
			where, total, want, total-want, w.describe())
	}
	for i, q := range oi {
		if q != 0 {
			w.fatalf("%s: open interest of %s off by %d (Σ long − Σ short)\n%s", where, w.syms[i].Name, q, w.describe())
		}
	}
	if b := w.fund.Balance(quoteAsset); b < 0 {
		w.fatalf("%s: fund balance %s", where, b)
	}
	if w.st.steps%32 == 0 || w.rng == nil {
		if err := w.fund.Check(); err != nil {
			w.fatalf("%s: %v", where, err)
		}
	}
	if !w.tolerate && w.uncovered+w.shortfall != 0 {
		w.fatalf("%s: the fund could not cover %s", where, w.uncovered+w.shortfall)
	}
}

// quiet asserts what must hold once nothing is in flight: no liquidation
// running, nothing reserved or set aside, every machine settled exactly
// once with its legs closed, the rankings consistent.
func (w *world) quiet() {
	w.t.Helper()
	if !w.idle() {
		w.fatalf("messages still queued")
	}
	for _, a := range w.accts {
		if a.m != nil {
			w.fatalf("%s still liquidating: %s", a.name, a.m.Describe())
		}
	}
	if r := w.fund.Reserved(quoteAsset); r != 0 {
		w.fatalf("fund still reserves %s", r)
	}
	for i, rk := range w.ranks {
		if s := rk.SetAsideTotal(); s != 0 {
			w.fatalf("%s: %s still set aside", w.syms[i].Name, s)
		}
		if err := rk.Check(); err != nil {
			w.fatalf("%s: %v", w.syms[i].Name, err)
		}
	}
	for _, m := range w.machines {
		if n := w.settles[m]; n != 1 || !m.Settled() {
			w.fatalf("liquidation %d settled %d times: %s", m.Res, n, m.Describe())
		}
		for j := range m.Legs {
			if m.Legs[j].Remaining != 0 {
				w.fatalf("liquidation %d settled with leg %d open: %s", m.Res, j, m.Describe())
			}
		}
	}
}

func (w *world) describe() string {
	s := fmt.Sprintf("marks %v fund %s (reserved %s) fees %s\n", w.marks, w.fund.Balance(quoteAsset), w.fund.Reserved(quoteAsset), w.fees)
	for _, a := range w.accts {
		s += fmt.Sprintf("  %s: balance %s cash %s", a.name, a.r.Balance(), a.r.Cash())
		for _, sym := range w.syms {
			if p, ok := a.r.Position(sym); ok && p.Qty != 0 {
				s += fmt.Sprintf(" %s %d cost %s", sym.Name, p.Qty, p.Cost)
			}
		}
		if a.m != nil {
			s += " | " + a.m.Describe()
		}
		s += "\n"
	}
	for _, ch := range w.active {
		for _, e := range ch.q[ch.head:] {
			s += fmt.Sprintf("  queued %d→%d %T %+v\n", ch.from, ch.to, e.m, e.m)
		}
	}
	return s
}

// ---- the account actor (actors/account.go, liquidation.go) ----

func sideOfQty(q book.Lots) book.Side {
	if q < 0 {
		return adl.Short
	}
	return adl.Long
}

// place runs PreTrade and sends a limit order to the book.
func (w *world) place(a *acct, si int, side book.Side, price book.Ticks, qty book.Lots, tif book.TIF) (book.OrderID, risk.Code) {
	id := w.newID()
	code, _ := a.r.PreTrade(w.syms[si], risk.Order{ID: id, Side: side, Type: risk.Limit, Price: price, Qty: qty, NeverRests: tif != book.GTC}, w.marks[si])
	if code != risk.OK {
		return 0, code
	}
	a.orders[id] = ord{sym: si, side: side}
	w.send(a.ep(), symEP(si), &placeMsg{a: a, sym: si, o: book.Order{ID: id, Account: a.id, Side: side, Type: book.Limit, TIF: tif, Price: price, Qty: qty}})
	return id, risk.OK
}

// cancelIDs asks the books to cancel a's open orders among ids.
func (w *world) cancelIDs(a *acct, ids []book.OrderID) {
	by := map[int][]book.OrderID{}
	var syms []int
	for _, id := range ids {
		if o, ok := a.orders[id]; ok {
			if by[o.sym] == nil {
				syms = append(syms, o.sym)
			}
			by[o.sym] = append(by[o.sym], id)
		}
	}
	for _, si := range syms {
		w.send(a.ep(), symEP(si), &cancelMsg{a: a, sym: si, ids: by[si]})
	}
}

func (w *world) canceled(a *acct, cs []book.CanceledOrder) {
	for _, c := range cs {
		if _, ok := a.orders[c.ID]; ok {
			a.r.OnCancel(c.ID)
			delete(a.orders, c.ID)
		}
	}
}

// positionChanged is accountActor.positionChanged: the position report to
// the ADL ranking (acked: the forced closes handled, with hasAck).
func (w *world) positionChanged(a *acct, si int, acked book.Lots, hasAck bool) {
	s := w.syms[si]
	pos, _ := a.r.Position(s)
	leg := -1
	if a.m != nil {
		leg = a.m.Leg(s)
	}
	var p adlPos
	switch {
	case leg >= 0 && !hasAck:
		return // the liquidation reports the leg (Deleverage)
	case leg >= 0 && !a.m.Legs[leg].Offered():
		p = adlPos{a: a, sym: si}
	case leg >= 0:
		g := &a.m.Legs[leg]
		p = legPosition(a, si, g.Remaining, RankedCost(g.LiquidationLeg), g.Bankruptcy)
	case pos.Qty == 0 && a.adl[si] == 0 && !hasAck:
		return
	default:
		a.adl[si] = pos.Qty
		p = adlPos{a: a, sym: si, qty: pos.Qty, cost: abs(pos.Cost)}
		if pos.Qty != 0 {
			p.margin = max(a.r.Collateral(s), 1)
			p.cost = max(p.cost, 1)
		}
	}
	p.acked = acked
	w.send(a.ep(), epADL, &p)
}

func legPosition(a *acct, si int, qty book.Lots, cost market.Money, bound book.Ticks) adlPos {
	return adlPos{a: a, sym: si, qty: qty, cost: cost, margin: 1, bound: bound}
}

// liquidate is accountActor.liquidate.
func (w *world) liquidate(a *acct, si int) {
	if a.m != nil {
		return
	}
	m, cancels, code := Start(a.r, w.syms[si], fund.ReservationID(w.newID()), w.cfg, socialized)
	if code != risk.OK {
		return
	}
	a.m = m
	w.machines = append(w.machines, m)
	w.st.liquidations++
	if len(m.Legs) > 1 {
		w.st.multiLeg++
	}
	if m.L.Mode == risk.Isolated {
		w.st.isolated++
	}
	w.cancelIDs(a, cancels)
	for i := range m.Legs {
		li := w.symIdx(m.Legs[i].Symbol)
		if w.liqBySym != nil {
			w.liqBySym[li]++
		}
		a.adl[li] = 0
		w.send(a.ep(), epADL, &adlPos{a: a, sym: li})
		w.positionChanged(a, li, 0, false)
	}
	w.perform(a, m)
}

// step feeds the account's liquidation an answer and performs its
// effects; a broken invariant fails the test.
func (w *world) step(a *acct, in Input) {
	m := a.m
	if m == nil {
		w.fatalf("%s: %T %+v for no liquidation", a.name, in, in)
	}
	if err := m.Step(in); err != nil {
		w.fatalf("%s: %v\nstate: %s", a.name, err, m.Describe())
	}
	w.perform(a, m)
}

// leg returns the leg of a's liquidation in symbol si or fails (the actors
// stop the account).
func (w *world) leg(a *acct, si int, what string) int {
	if a.m != nil {
		if i := a.m.Leg(w.syms[si]); i >= 0 {
			return i
		}
	}
	w.fatalf("%s: %s for no liquidation leg in %s", a.name, what, w.syms[si].Name)
	return -1
}

// perform carries out m's effects (accountActor.perform).
func (w *world) perform(a *acct, m *Machine) {
	for _, e := range m.Ready() {
		w.performOne(a, m, e)
	}
}

func (w *world) performOne(a *acct, m *Machine, e Effect) {
	if w.record {
		w.effects = append(w.effects, copyEffect(e))
	}
	switch e := e.(type) {
	case *Reserve:
		q := &quoteMsg{a: a, m: m, id: e.ID, base: e.Base, legs: slices.Clone(e.Legs), quotes: make([]Quote, len(e.Legs))}
		w.send(a.ep(), symEP(w.symIdx(e.Legs[0].Symbol)), q)
	case *QuoteSocial:
		w.st.quotes++
		w.send(a.ep(), epADL, &socializeMsg{a: a, sym: w.symIdx(m.Legs[e.Leg].Symbol), side: e.Side, quote: true})
	case *PlaceIOC:
		si := w.symIdx(m.Legs[e.Leg].Symbol)
		w.send(a.ep(), symEP(si), &placeMsg{a: a, sym: si, o: book.Order{ID: e.ID, Account: a.id, Side: e.Side,
			Type: book.Limit, TIF: book.IOC, Price: e.Price, Qty: e.Qty}})
	case *Deleverage:
		si := w.symIdx(m.Legs[e.Leg].Symbol)
		a.adl[si] = e.Qty
		w.st.adlRounds++
		w.send(a.ep(), epADL, &deleverageMsg{price: e.Price, pos: legPosition(a, si, e.Qty, e.Cost, e.Price)})
	case *Reprice:
		si := w.symIdx(m.Legs[e.Leg].Symbol)
		p := legPosition(a, si, e.Qty, e.Cost, e.Price)
		w.send(a.ep(), epADL, &p)
	case *RetryAfter:
		w.st.retries++
		w.send(epTimer, a.ep(), &timerMsg{a: a, sym: w.symIdx(m.Legs[e.Leg].Symbol), res: m.Res})
	case *Socialize:
		w.st.socialRounds++
		if m.Legs[e.Leg].social.rounds > 1 {
			w.st.respread++
		}
		w.send(a.ep(), epADL, &socializeMsg{a: a, sym: w.symIdx(m.Legs[e.Leg].Symbol), side: e.Side, deficit: e.Deficit, release: e.Release})
	case *Refund:
		w.st.refunds++
		w.send(a.ep(), epADL, &refundMsg{a: w.byID[e.Account], sym: w.symIdx(m.Legs[e.Leg].Symbol), r: *e})
	case *Settle:
		w.settled(a, m, *e)
	case *AnswerClose:
		if e.Qty > 0 {
			w.st.closeAgainst++
		}
		dm := w.deferred[e.Token]
		if dm == nil {
			w.fatalf("the liquidation answered close %d, which it never deferred", e.Token)
		}
		delete(w.deferred, e.Token)
		dm.answer(w, e.Qty, 0)
	case *AdjustClose:
		cp := w.byID[e.Account]
		w.send(a.ep(), cp.ep(), &adjustMsg{a: cp, sym: w.symIdx(m.Legs[e.Leg].Symbol), amount: e.Amount, bankrupt: a})
	case *Release:
		w.send(a.ep(), epFund, &releaseMsg{id: e.ID})
	case *ReleaseSocial:
		w.send(a.ep(), epADL, &socializeMsg{a: a, sym: w.symIdx(m.Legs[e.Leg].Symbol), side: e.Side, release: e.Amount, abandon: true})
	default:
		w.fatalf("unknown effect %T", e)
	}
}

// settled is accountActor.settled.
func (w *world) settled(a *acct, m *Machine, s Settle) {
	w.settles[m]++
	if w.settles[m] != 1 {
		w.fatalf("liquidation %d emitted Settle %d times", m.Res, w.settles[m])
	}
	for j := range m.Legs {
		if m.Legs[j].Remaining != 0 {
			w.fatalf("Settle with leg %d open: %s", j, m.Describe())
		}
	}
	if a.m != m {
		w.fatalf("%s settled a liquidation it does not run", a.name)
	}
	// The reservation rule: what the settlement draws from the fund is
	// within what the fund reserved for it (a socialized liquidation
	// beyond it is the known shortfall issue, counted when tolerated).
	soc := false
	var kept market.Money // the legs' funding no bankruptcy price took
	for j := range m.Legs {
		soc = soc || m.Legs[j].social.asked
		kept += m.Legs[j].kept
	}
	if kept != 0 {
		w.st.fundingKept++
	}
	if -s.Fund > m.amount+max(0, -kept) {
		if !soc || !w.tolerate {
			w.fatalf("liquidation %d of %s settles %s with the fund, beyond the %s it reserved: %s", m.Res, a.name, s.Fund, m.amount, m.Describe())
		}
		w.st.overdrawn++
	}
	w.st.settled++
	if s.Fund > 0 {
		w.st.surplus++
	} else if s.Fund < 0 {
		w.st.drawn++
	}
	w.fees += s.Fee
	w.send(a.ep(), epFund, &settleMsg{id: s.ID, a: a, sym: s.Symbol.Name, pnl: s.Fund, volume: s.Volume, socialized: soc, kept: max(0, -kept)})
	a.m = nil
	a.r.EndLiquidation()
	for j := range m.Legs {
		w.positionChanged(a, w.symIdx(m.Legs[j].Symbol), 0, false)
	}
	for i, sym := range w.syms {
		if p, ok := a.r.Position(sym); ok && p.Qty != 0 && a.r.OnMark(sym, max(w.marks[i], 1)) {
			w.liquidate(a, i)
			return
		}
	}
}

// iocDone feeds a liquidation order's result to its machine and checks
// the reservation rule on the leg: the IOC's limit is such that a full
// fill loses at most the leg's share of the reservation (its quoted need
// on a socialized leg, which the winners' set-aside backs).
func (w *world) iocDone(a *acct, si int, id book.OrderID, execs []risk.Exec) {
	m := a.m
	g := &m.Legs[m.Leg(w.syms[si])]
	before := g.Gain
	w.step(a, IOCDone{ID: id, Fills: execs})
	allowed := g.budget()
	if loss := before - g.Gain; loss > allowed {
		w.fatalf("%s: the IOC on %s lost %s, beyond the leg's share %s of the reservation: %v; %s",
			a.name, g.Symbol.Name, loss, allowed, execs, m.Describe())
	}
}

// fillBooked books a trade's fee and deficit (accountActor.applyFill).
func (w *world) fillBooked(a *acct, si int, res risk.FillResult) {
	w.fees += res.Fee
	if res.Deficit > 0 {
		w.send(a.ep(), epFund, &deficitMsg{amount: res.Deficit})
	}
}

// ---- messages ----

// placeMsg: account → symbol, an order (ordinary or a liquidation's IOC).
type placeMsg struct {
	a   *acct
	sym int
	o   book.Order
}

func (m *placeMsg) deliver(w *world) {
	r := &w.res
	w.books[m.sym].Place(m.o, r)
	out := &takerResultMsg{a: m.a, sym: m.sym, id: m.o.ID, side: m.o.Side, code: r.Code, status: r.Status}
	if r.Code == book.OK {
		out.fills = slices.Clone(r.Fills)
		out.canceled = slices.Clone(r.Canceled)
		for _, f := range r.Fills {
			mk := w.byID[f.MakerAccount]
			w.send(symEP(m.sym), mk.ep(), &makerFillMsg{a: mk, sym: m.sym, f: f})
		}
	}
	w.send(symEP(m.sym), m.a.ep(), out)
}

// takerResultMsg: symbol → taker, the order's fills.
type takerResultMsg struct {
	a        *acct
	sym      int
	id       book.OrderID
	side     book.Side
	code     book.RejectCode
	status   book.Status
	fills    []book.Fill
	canceled []book.CanceledOrder
}

func (m *takerResultMsg) pending(w *world, oi []book.Lots) market.Money {
	var v market.Money
	for _, f := range m.fills {
		d := book.Lots(m.side.Sign()) * f.Qty
		oi[m.sym] += d
		v += w.syms[m.sym].Value(w.marks[m.sym]-f.Price, d)
	}
	return v
}

func (m *takerResultMsg) deliver(w *world) {
	a, s := m.a, w.syms[m.sym]
	if a.m != nil && a.m.Owns(m.id) {
		execs := make([]risk.Exec, 0, len(m.fills))
		for _, f := range m.fills {
			execs = append(execs, risk.Exec{Price: f.Price, Qty: f.Qty})
		}
		w.st.iocFills += len(execs)
		w.canceled(a, m.canceled)
		w.iocDone(a, m.sym, m.id, execs)
		return
	}
	o, ok := a.orders[m.id]
	if !ok {
		w.fatalf("%s: the result of order %d, which it does not know", a.name, m.id)
	}
	if m.code != book.OK {
		a.r.OnOrderDone(m.id)
		delete(a.orders, m.id)
		return
	}
	liquidate := false
	for _, f := range m.fills {
		res, code := a.r.ApplyFill(s, risk.Fill{OrderID: m.id, Side: o.side, Price: f.Price, Qty: f.Qty, FeeRate: s.FeeRate(false)})
		if code != risk.OK {
			w.fatalf("%s: risk refused the fill %d at %d of order %d: %s", a.name, f.Qty, f.Price, m.id, code)
		}
		w.st.trades++
		w.fillBooked(a, m.sym, res)
		liquidate = liquidate || res.Liquidate
	}
	switch m.status {
	case book.StatusNew, book.StatusPartiallyFilled:
	default:
		a.r.OnOrderDone(m.id)
		delete(a.orders, m.id)
	}
	w.canceled(a, m.canceled)
	w.positionChanged(a, m.sym, 0, false)
	if liquidate {
		w.liquidate(a, m.sym)
	}
}

// makerFillMsg: symbol → maker.
type makerFillMsg struct {
	a   *acct
	sym int
	f   book.Fill
}

func (m *makerFillMsg) pending(w *world, oi []book.Lots) market.Money {
	d := book.Lots(m.f.TakerSide.Opposite().Sign()) * m.f.Qty
	oi[m.sym] += d
	return w.syms[m.sym].Value(w.marks[m.sym]-m.f.Price, d)
}

func (m *makerFillMsg) deliver(w *world) {
	a, s, f := m.a, w.syms[m.sym], m.f
	o, ok := a.orders[f.MakerID]
	if !ok {
		w.fatalf("%s: a maker fill for order %d, which it does not know", a.name, f.MakerID)
	}
	res, code := a.r.ApplyFill(s, risk.Fill{OrderID: f.MakerID, Side: o.side, Price: f.Price, Qty: f.Qty, Maker: true, FeeRate: s.FeeRate(true)})
	if code != risk.OK {
		w.fatalf("%s: risk refused the maker fill %d at %d of order %d: %s", a.name, f.Qty, f.Price, f.MakerID, code)
	}
	w.fillBooked(a, m.sym, res)
	if f.MakerRemaining == 0 {
		delete(a.orders, f.MakerID)
	}
	w.positionChanged(a, m.sym, 0, false)
	if res.Liquidate {
		w.liquidate(a, m.sym)
	}
}

// cancelMsg: account → symbol; canceledMsg back.
type cancelMsg struct {
	a   *acct
	sym int
	ids []book.OrderID
}

func (m *cancelMsg) deliver(w *world) {
	out := &canceledMsg{a: m.a}
	for _, id := range m.ids {
		w.books[m.sym].Cancel(id, &w.res)
		if w.res.Code == book.OK {
			out.orders = append(out.orders, w.res.Canceled...)
		}
	}
	w.send(symEP(m.sym), m.a.ep(), out)
}

type canceledMsg struct {
	a      *acct
	orders []book.CanceledOrder
}

func (m *canceledMsg) deliver(w *world) { w.canceled(m.a, m.orders) }

// quoteMsg: the coverage request through the legs' books (liq.Need) to the
// fund, which reserves liq.Coverage and answers reservedMsg.
type quoteMsg struct {
	a      *acct
	m      *Machine
	id     fund.ReservationID
	base   market.Money
	legs   []QuoteLeg
	quotes []Quote
	next   int
}

func (m *quoteMsg) deliver(w *world) {
	if m.next < len(m.legs) {
		si := w.symIdx(m.legs[m.next].Symbol)
		m.quotes[m.next] = Need(m.legs[m.next], w.books[si], w.marks[si])
		m.next++
		if m.next < len(m.legs) {
			w.send(symEP(si), symEP(w.symIdx(m.legs[m.next].Symbol)), m)
		} else {
			w.send(symEP(si), epFund, m)
		}
		return
	}
	need := Coverage(m.base, m.quotes)
	got, err := w.fund.Reserve(m.id, quoteAsset, need)
	if err != nil {
		w.fatalf("reserve %d: %v", m.id, err)
	}
	switch {
	case got == 0 && need > 0:
		w.st.reserveEmpty++
	case got < need:
		w.st.reservePartial++
	}
	w.send(epFund, m.a.ep(), &reservedMsg{a: m.a, amount: got, quotes: m.quotes})
}

type reservedMsg struct {
	a      *acct
	amount market.Money
	quotes []Quote
}

func (m *reservedMsg) deliver(w *world) {
	w.step(m.a, Reserved{Amount: m.amount, Quotes: m.quotes})
}

// settleMsg, releaseMsg, deficitMsg: to the fund (actors/fund.go).
type settleMsg struct {
	id          fund.ReservationID
	a           *acct
	sym         string
	pnl, volume market.Money
	socialized  bool         // a socialized-loss round ran
	kept        market.Money // leg funding paid that no bankruptcy price took
}

func (m *settleMsg) pending(*world, []book.Lots) market.Money { return m.pnl }

func (m *settleMsg) deliver(w *world) {
	out, err := w.fund.Settle(m.id, fund.Settlement{Asset: quoteAsset, Account: m.a.id, Symbol: m.sym, PnL: m.pnl, Volume: m.volume})
	if err != nil {
		w.fatalf("settle %d: %v", m.id, err)
	}
	if out.Uncovered > 0 {
		switch {
		case w.tolerate && m.socialized:
			w.st.shortfalls++
		case w.tolerate && out.Uncovered <= m.kept:
			w.st.fundingUncovered++
		default:
			w.fatalf("the fund could not cover %s of liquidation %d although it was reserved (leg funding beyond it %s)", out.Uncovered, m.id, m.kept)
		}
		w.shortfall += out.Uncovered
	}
	if _, err := w.fund.Release(m.id); err != nil {
		w.fatalf("release %d: %v", m.id, err)
	}
}

type releaseMsg struct{ id fund.ReservationID }

func (m *releaseMsg) deliver(w *world) {
	if _, err := w.fund.Release(m.id); err != nil {
		w.fatalf("release %d: %v", m.id, err)
	}
}

// deficitMsg: a close beyond the account's cash (risk's FillResult.Deficit).
type deficitMsg struct {
	amount market.Money
	adl    bool // from an ADL close
}

func (m *deficitMsg) pending(*world, []book.Lots) market.Money { return -m.amount }

func (m *deficitMsg) deliver(w *world) {
	w.st.deficits++
	out, err := w.fund.Settle(fund.NoReservation, fund.Settlement{Asset: quoteAsset, PnL: -m.amount})
	if err != nil {
		w.fatalf("deficit: %v", err)
	}
	if out.Uncovered > 0 {
		w.st.uncoveredDeficits++
		if m.adl {
			w.st.uncoveredADL++
		}
		if !w.tolerate || m.adl { // ADL passes over counterparties that cannot afford the close
			w.fatalf("the fund could not cover %s of a close beyond the account's cash (ADL close: %v)", out.Uncovered, m.adl)
		}
	}
	w.uncovered += out.Uncovered
}

// ---- the ADL actor (actors/adl.go, socialize.go) ----

// adlPos: account → ADL, a position report (acked: forced closes handled).
type adlPos struct {
	a            *acct
	sym          int
	qty          book.Lots
	cost, margin market.Money
	acked        book.Lots
	bound        book.Ticks // a remainder's bankruptcy price (adl.Ranking.Report)
}

func (p *adlPos) deliver(w *world) { w.report(p) }

func (w *world) report(p *adlPos) book.Lots {
	held, err := w.ranks[p.sym].Report(p.a.id, sideOfQty(p.qty), abs(p.qty), p.cost, p.margin, p.acked, p.bound)
	if err != nil {
		w.fatalf("ranking refused %s's position %d (cost %d, margin %d): %v", p.a.name, p.qty, p.cost, p.margin, err)
	}
	return held
}

// deleverageMsg: account → ADL, a leg's remainder at its bankruptcy price.
type deleverageMsg struct {
	pos   adlPos
	price book.Ticks
}

func (m *deleverageMsg) deliver(w *world) {
	if w.report(&m.pos) == 0 {
		w.send(epADL, m.pos.a.ep(), &adlPlanMsg{a: m.pos.a, sym: m.pos.sym})
		return
	}
	w.pendingDL = append(w.pendingDL, m)
	if !w.flushing {
		w.flushing = true
		w.send(epADL, epADL, flushMsg{})
	}
}

type flushMsg struct{}

func (flushMsg) deliver(w *world) {
	w.flushing = false
	pend := w.pendingDL
	w.pendingDL = nil
	for si, rk := range w.ranks {
		for _, side := range []book.Side{adl.Long, adl.Short} {
			var reqs []adl.Request
			var batch []*deleverageMsg
			for _, m := range pend {
				p := &m.pos
				if p.sym != si || sideOfQty(p.qty) != side {
					continue
				}
				info, ok := rk.Position(p.a.id)
				if !ok || info.Side != side {
					w.send(epADL, p.a.ep(), &adlPlanMsg{a: p.a, sym: si})
					continue
				}
				reqs = append(reqs, adl.Request{Account: p.a.id, Side: side, Qty: info.Qty, Price: m.price})
				batch = append(batch, m)
			}
			if len(reqs) == 0 {
				continue
			}
			results, _ := rk.DeleverageBatch(reqs, nil, nil)
			for i, r := range results {
				m := batch[i]
				if r.Err != nil {
					w.send(epADL, m.pos.a.ep(), &adlPlanMsg{a: m.pos.a, sym: si})
					continue
				}
				for _, c := range r.Closes {
					cp := w.byID[c.Account]
					w.send(epADL, cp.ep(), &adlCloseMsg{a: cp, sym: si, side: c.Side, qty: c.Qty, price: m.price, bankrupt: m.pos.a})
				}
				w.send(epADL, m.pos.a.ep(), &adlPlanMsg{a: m.pos.a, sym: si, closes: len(r.Closes), covered: r.Covered})
			}
		}
	}
}

type adlPlanMsg struct {
	a       *acct
	sym     int
	closes  int
	covered book.Lots
}

func (m *adlPlanMsg) deliver(w *world) {
	w.step(m.a, ADLPlan{Leg: w.leg(m.a, m.sym, "ADL plan"), Closes: m.closes, Covered: m.covered})
}

// adlCloseMsg: ADL → counterparty, a forced close at the bankrupt leg's
// bankruptcy price (accountActor.onADLClose).
type adlCloseMsg struct {
	a        *acct
	sym      int
	side     book.Side // of the closed position
	qty      book.Lots
	price    book.Ticks
	bankrupt *acct
}

func (m *adlCloseMsg) deliver(w *world) {
	a, s := m.a, w.syms[m.sym]
	done, res, code := a.r.CloseForADL(s, m.side, m.qty, m.price, 0)
	if code != risk.OK {
		w.fatalf("%s: risk refused an ADL close of %d at %d: %s", a.name, m.qty, m.price, code)
	}
	if res.Deficit > 0 {
		w.send(a.ep(), epFund, &deficitMsg{amount: res.Deficit, adl: true})
	}
	inLiq, by := false, book.AccountID(0)
	if done > 0 {
		w.st.adlCloses++
		by = a.id
		if res.Liquidate {
			w.liquidate(a, m.sym)
		}
	} else if a.m != nil {
		var err error
		var deferred bool
		w.st.closeToLiq++
		w.lastClose++
		done, deferred, err = a.m.CloseAgainst(s, m.side, m.qty, m.price, w.lastClose)
		if err != nil {
			w.fatalf("%s: CloseAgainst: %v\nstate: %s", a.name, err, a.m.Describe())
		}
		if w.trace != nil {
			w.trace(fmt.Sprintf("CloseAgainst %s %d at %d by %s: done %d deferred %v; %s", m.side, m.qty, m.price, m.bankrupt.name, done, deferred, a.m.Describe()))
		}
		if deferred {
			w.deferred[w.lastClose] = m
			w.st.closeDeferred++
			return // answered by an AnswerClose once the leg's plan is in
		}
		if done > 0 {
			w.st.closeAgainst++
		}
		inLiq = true
	}
	m.answer(w, done, by)
	if inLiq && a.m != nil {
		w.perform(a, a.m)
	}
}

// answer is accountActor.answerClose: the acknowledgement to the ranking
// and the bankrupt account's answer; by is the account that closed (0: a
// liquidation's leg, CloseAgainst).
func (m *adlCloseMsg) answer(w *world, done book.Lots, by book.AccountID) {
	w.positionChanged(m.a, m.sym, m.qty, true)
	w.send(m.a.ep(), m.bankrupt.ep(), &adlFilledMsg{a: m.bankrupt, sym: m.sym, qty: done, asked: m.qty, price: m.price,
		d: book.Lots(m.side.Sign()) * done, by: by})
}

// adlFilledMsg: counterparty → bankrupt: qty closed at price; d is the
// bankrupt leg's position change still to book.
type adlFilledMsg struct {
	a          *acct
	sym        int
	qty, asked book.Lots
	price      book.Ticks
	d          book.Lots
	by         book.AccountID
}

func (m *adlFilledMsg) pending(w *world, oi []book.Lots) market.Money {
	oi[m.sym] += m.d
	return w.syms[m.sym].Value(w.marks[m.sym]-m.price, m.d)
}

func (m *adlFilledMsg) deliver(w *world) {
	w.step(m.a, ADLFilled{Leg: w.leg(m.a, m.sym, "ADL close"), Qty: m.qty, Asked: m.asked, Account: m.by})
}

// adjustMsg: bankrupt → counterparty (accountActor.onAdjust), a price
// adjustment of its ADL close (AdjustClose).
type adjustMsg struct {
	a        *acct
	sym      int
	amount   market.Money
	bankrupt *acct
}

func (m *adjustMsg) deliver(w *world) {
	a := m.a
	res, code := a.r.AdjustADLClose(w.syms[m.sym], m.amount)
	if code != risk.OK {
		w.st.adjustsUnpaid++
	}
	w.send(a.ep(), m.bankrupt.ep(), &adjustedMsg{a: m.bankrupt, sym: m.sym, amount: res.Realized, asked: m.amount})
	w.st.adjusts++
	w.positionChanged(a, m.sym, 0, false)
	if res.Liquidate {
		for i, sym := range w.syms {
			if p, ok := a.r.Position(sym); ok && p.Qty != 0 && a.r.OnMark(sym, max(w.marks[i], 1)) {
				w.liquidate(a, i)
				return
			}
		}
	}
}

// adjustedMsg: counterparty → bankrupt: amount of asked moved (booked on
// the counterparty, not yet on the leg).
type adjustedMsg struct {
	a             *acct
	sym           int
	amount, asked market.Money
}

func (m *adjustedMsg) pending(*world, []book.Lots) market.Money { return -m.amount }

func (m *adjustedMsg) deliver(w *world) {
	w.step(m.a, CloseAdjusted{Leg: w.leg(m.a, m.sym, "close adjusted"), Amount: m.amount, Asked: m.asked})
}

// timerMsg: a RetryAfter's wait is over (accountActor.onADLRetry).
type timerMsg struct {
	a   *acct
	sym int
	res fund.ReservationID
}

func (m *timerMsg) deliver(w *world) {
	if m.a.m == nil || m.a.m.Res != m.res {
		return
	}
	if i := m.a.m.Leg(w.syms[m.sym]); i >= 0 {
		w.step(m.a, TimerFired{Leg: i})
	}
}

// socializeMsg: account → ADL (adlActor.socialize).
type socializeMsg struct {
	a                *acct
	sym              int
	side             book.Side
	deficit, release market.Money
	quote, abandon   bool
}

func (m *socializeMsg) deliver(w *world) {
	rk := w.ranks[m.sym]
	if m.quote {
		avail, err := rk.SetAside(m.side)
		if err != nil {
			avail = 0
		}
		w.send(epADL, m.a.ep(), &socialCapMsg{a: m.a, sym: m.sym, amount: avail})
		return
	}
	rk.ReleaseAside(m.side, m.release)
	if m.abandon {
		return
	}
	res, err := rk.SocializeAt(m.side, m.deficit, 0, nil)
	if err != nil && !errors.Is(err, adl.ErrNoMark) {
		w.fatalf("socialized loss of %d refused: %v", m.deficit, err)
	}
	if w.trace != nil {
		w.trace(fmt.Sprintf("socialize %s side %s deficit %s at mark %d: charged %s uncovered %s, %d charges", w.syms[m.sym].Name, m.side, m.deficit, res.Mark, res.Charged, res.Uncovered, len(res.Charges)))
	}
	n := 0
	for _, c := range res.Charges {
		if c.Amount <= 0 {
			continue
		}
		n++
		win := w.byID[c.Account]
		w.send(epADL, win.ep(), &chargeMsg{a: win, sym: m.sym, amount: c.Amount, mark: res.Mark, bankrupt: m.a, qty: heldBy(rk, c.Account, m.side)})
	}
	w.send(epADL, m.a.ep(), &socialPlanMsg{a: m.a, sym: m.sym, n: n, uncovered: res.Uncovered})
}

type socialCapMsg struct {
	a      *acct
	sym    int
	amount market.Money
}

func (m *socialCapMsg) deliver(w *world) {
	w.step(m.a, SocialCap{Leg: w.leg(m.a, m.sym, "set-aside"), Amount: m.amount})
}

type socialPlanMsg struct {
	a         *acct
	sym       int
	n         int
	uncovered market.Money
}

func (m *socialPlanMsg) deliver(w *world) {
	w.step(m.a, SocialPlan{Leg: w.leg(m.a, m.sym, "socialized-loss plan"), N: m.n, Uncovered: m.uncovered})
}

// chargeMsg: ADL → winner (accountActor.onCharge).
type chargeMsg struct {
	a        *acct
	sym      int
	amount   market.Money
	mark     book.Ticks
	bankrupt *acct
	qty      book.Lots // the ranking's lots of the winner
}

func (m *chargeMsg) deliver(w *world) {
	a, s := m.a, w.syms[m.sym]
	res, code := a.r.ApplySocializedCharge(s, m.amount, m.mark)
	paid := -res.Realized
	if code != risk.OK {
		paid = 0
		w.st.unpaid++
	}
	w.send(a.ep(), m.bankrupt.ep(), &chargedMsg{a: m.bankrupt, sym: m.sym, paid: paid, asked: m.amount, winner: a.id, qty: m.qty})
	if paid == 0 {
		return
	}
	w.st.charges++
	w.positionChanged(a, m.sym, 0, false)
	if res.Liquidate {
		w.liquidate(a, m.sym)
	}
}

// chargedMsg: winner → bankrupt: paid of asked (paid is out of the
// winner's balance, not yet in the liquidation's Charged).
type chargedMsg struct {
	a           *acct
	sym         int
	paid, asked market.Money
	winner      book.AccountID
	qty         book.Lots
}

func (m *chargedMsg) pending(*world, []book.Lots) market.Money { return m.paid }

func (m *chargedMsg) deliver(w *world) {
	w.step(m.a, SocialCharged{Leg: w.leg(m.a, m.sym, "charge"), Paid: m.paid, Asked: m.asked, Account: m.winner, Qty: m.qty})
}

// refundMsg: bankrupt → ADL (adlActor.refund) → winner
// (accountActor.onRefund): the escrow it paid and the settlement did not
// need.
type refundMsg struct {
	a      *acct
	sym    int
	r      Refund
	ranked bool // through the ranking: to the winner
}

func (m *refundMsg) pending(*world, []book.Lots) market.Money { return m.r.Amount }

func (m *refundMsg) deliver(w *world) {
	a, s := m.a, w.syms[m.sym]
	if !m.ranked {
		rk := w.ranks[m.sym]
		rk.Refunded(m.r.Side, a.id, m.r.Uncharged(heldBy(rk, a.id, m.r.Side)))
		m.ranked = true
		w.send(epADL, a.ep(), m)
		return
	}
	if _, code := a.r.RefundSocializedCharge(s, m.r.Amount); code != risk.OK {
		w.fatalf("%s refused a refund of %s: %s", a.name, m.r.Amount, code)
	}
	w.positionChanged(a, m.sym, 0, false)
}

// heldBy is actors' heldBy: acct's lots opposite bankrupt side in rk.
func heldBy(rk *adl.Ranking, acct book.AccountID, side book.Side) book.Lots {
	if info, ok := rk.Position(acct); ok && info.Side == side.Opposite() {
		return info.Qty
	}
	return 0
}

// copyEffect copies an effect out of the machine, which reuses it.
func copyEffect(e Effect) Effect {
	switch e := e.(type) {
	case *Reserve:
		c := *e
		c.Legs = slices.Clone(e.Legs)
		return &c
	case *QuoteSocial:
		c := *e
		return &c
	case *PlaceIOC:
		c := *e
		return &c
	case *Deleverage:
		c := *e
		return &c
	case *RetryAfter:
		c := *e
		return &c
	case *Socialize:
		c := *e
		return &c
	case *Settle:
		c := *e
		return &c
	case *Release:
		c := *e
		return &c
	case *AnswerClose:
		c := *e
		return &c
	case *ReleaseSocial:
		c := *e
		return &c
	case *Reprice:
		c := *e
		return &c
	case *Refund:
		c := *e
		return &c
	case *AdjustClose:
		c := *e
		return &c
	}
	panic("unknown effect")
}
