package actors

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

// Probes every actor answers (all handled without counting as work).
type (
	// probeMsg asks for the number of messages the actor has handled.
	probeMsg struct{ reply func(uint64) }
	// auditMsg asks for the actor's share of the audit.
	auditMsg struct{ reply func(any) }
	// hashMsg asks for a digest of the actor's state.
	hashMsg struct{ reply func(uint64) }
)

// AssetAudit is one settlement asset's sums, in Money units of it.
type AssetAudit struct {
	Asset        string
	Deposits     market.Money // Σ account deposits, net of withdrawals
	FundDeposits market.Money
	Balances     market.Money // Σ account balances (cash + isolated margins), Held included
	// Held is money held for failed accounts beside their frozen state (a
	// refund that reached one after it failed: wallet.held), part of
	// Balances: theirs, not missing.
	Held       market.Money
	Unrealized market.Money // Σ unrealized PnL at each symbol's mark
	// InFlight is the value of liquidations not yet settled (risk's
	// conservation term: Base + Σ gains + Σ Value(mark − P_bk, Remaining)).
	InFlight market.Money
	Fund     market.Money
	// Fees is the fees ledger: trading and liquidation fees, plus the
	// funding payments' net (the rounding dust once a funding time is paid).
	Fees      market.Money
	Uncovered int64 // deficits the fund could not pay
	// FundReserved is the fund's cover reserved for liquidations in
	// flight: zero when none is, or cover leaked.
	FundReserved market.Money
	// FailedShortfall is Σ over failed accounts of what their equity at
	// the marks (balances, positions and held fills, a frozen liquidation)
	// is below zero: a loss nobody covers while they are out of service,
	// which grows as the marks move against their frozen positions.
	FailedShortfall market.Money
}

// Conserved reports the money identity
// Balances + Unrealized + InFlight + Fund + Fees == Deposits + FundDeposits.
func (a *AssetAudit) Conserved() bool {
	return a.Balances+a.Unrealized+a.InFlight+a.Fund+a.Fees == a.Deposits+a.FundDeposits
}

// AuditReport is the exchange-wide invariant check in Money units: the
// primary asset's sums (embedded) and every asset's (Assets, the primary
// first); money never moves between assets, so each balances on its own.
type AuditReport struct {
	AssetAudit
	Assets []AssetAudit
	// Long and Short are Σ position lots per symbol (liquidation legs
	// included).
	Long, Short []book.Lots
	// Negative lists flat accounts (no position, no liquidation) with a
	// negative balance: a settled loss nobody covered. risk lets cash dip
	// below zero while positions stay open (the account is liquidated if it
	// matters), so those are only counted, in NegativeOpen.
	Negative     []string
	NegativeOpen int
	// OpenOrders is Σ open orders the accounts know, Resting Σ orders in the
	// books; equal when every order is resting or terminal.
	OpenOrders, Resting int
	Liquidating         int      // accounts with a liquidation in flight
	Failed              []string // accounts whose actor panicked
	// Failures lists every part out of service with its reason; Halted
	// is set when one was shared (fund, ADL, a book): trading stopped.
	Failures []wire.Failure
	Halted   bool
	// Earmarked is the winners' profit set aside for socialized
	// liquidations: zero when none is in flight.
	Earmarked market.Money
	// HeldFills is, per symbol, the fills of failed accounts' own orders
	// held beside their frozen state (HeldFill), counted in Long, Short
	// and Unrealized as theirs.
	HeldFills []HeldFill
	Err       error // a core's own consistency check failed
	OK        bool
}

// Conserved reports whether every asset's money identity holds.
func (r *AuditReport) Conserved() bool {
	if len(r.Assets) == 0 {
		return r.AssetAudit.Conserved()
	}
	for i := range r.Assets {
		if !r.Assets[i].Conserved() {
			return false
		}
	}
	return true
}

// Wire converts the report to the admin.audit reply.
func (r *AuditReport) Wire(syms []*symbolHandle) wire.AuditReply {
	out := wire.AuditReply{Reply: wire.OK(), Deposits: r.Deposits.Decimal(), FundDeposits: r.FundDeposits.Decimal(),
		Balances: r.Balances.Decimal(), Unrealized: (r.Unrealized + r.InFlight).Decimal(), Fund: r.Fund.Decimal(),
		Fees: r.Fees.Decimal(), OpenInterest: map[string]wire.OpenInterest{}, NegativeBalances: slices.Clone(r.Negative),
		Uncovered: market.Money(r.Uncovered).Decimal(), HeldForFailed: r.Held.Decimal(), FailedShortfall: r.FailedShortfall.Decimal(),
		Failures: r.Failures, InvariantsOK: r.OK}
	if out.NegativeBalances == nil {
		out.NegativeBalances = []string{}
	}
	if len(r.Assets) > 1 {
		out.Assets = map[string]wire.AuditAsset{}
		for _, a := range r.Assets {
			out.Assets[a.Asset] = wire.AuditAsset{Deposits: a.Deposits.Decimal(), FundDeposits: a.FundDeposits.Decimal(),
				Balances: a.Balances.Decimal(), Unrealized: (a.Unrealized + a.InFlight).Decimal(), Fund: a.Fund.Decimal(),
				Fees: a.Fees.Decimal(), Uncovered: market.Money(a.Uncovered).Decimal(), HeldForFailed: a.Held.Decimal(),
				FailedShortfall: a.FailedShortfall.Decimal()}
		}
	}
	for i, h := range syms {
		out.OpenInterest[h.sym.Name] = wire.OpenInterest{Long: h.sym.Qty(r.Long[i]), Short: h.sym.Qty(r.Short[i])}
		if f := r.HeldFills[i]; f.Fills > 0 {
			if out.HeldFills == nil {
				out.HeldFills = map[string]wire.HeldFills{}
			}
			out.HeldFills[h.sym.Name] = wire.HeldFills{Fills: f.Fills, Buy: h.sym.Qty(f.Buy), Sell: h.sym.Qty(f.Sell),
				Cost: f.Cost.Decimal(), Fee: f.Fee.Decimal()}
		}
	}
	return out
}

// accountAudit is an account actor's share.
type accountAudit struct {
	name        string
	wallets     []walletAudit // per asset
	qty         []book.Lots
	cost        []market.Money
	openOrders  int
	liquidating bool
	liqAsset    int          // the liquidating wallet's
	base        market.Money // the liquidation's, with what its winners paid so far
	legs        []legAudit
	failed      bool
	held        []HeldFill // by symbol; nil when none
	// check: risk's own consistency, and its open orders' quantities
	// against the account's view of them.
	check error
}

type walletAudit struct {
	balance, deposits, fees, funding market.Money
	held                             market.Money // of balance (wallet.held)
}

type legAudit struct {
	sym       int
	remaining book.Lots
	bk        book.Ticks
	gain      market.Money
}

type symbolAudit struct {
	sym     int
	resting int
	mark    book.Ticks
}

type fundAudit struct {
	assets []fundAssetAudit // per asset
	check  error
}

type fundAssetAudit struct {
	balance, deposits, reserved market.Money
	uncovered                   int64
}

type adlAudit struct {
	long, short []book.Lots
	earmarked   market.Money
	err         error
}

func (a *accountActor) auditShare() accountAudit {
	out := accountAudit{name: a.e.name, failed: a.e.failed.Load(), openOrders: a.orders.Len(), qty: make([]book.Lots, len(a.x.symbols)),
		cost: make([]market.Money, len(a.x.symbols)), held: slices.Clone(a.held)}
	for i := range a.wallets {
		w := &a.wallets[i]
		out.wallets = append(out.wallets, walletAudit{balance: w.acct.Balance() + w.held, deposits: w.deposits, fees: w.fees, funding: w.funding,
			held: w.held})
	}
	for _, h := range a.x.symbols {
		if p, ok := a.risk(h).Position(h.sym); ok {
			out.qty[h.idx], out.cost[h.idx] = p.Qty, p.Cost
		}
	}
	out.check = a.checkOrders()
	if lq := a.liq; lq != nil {
		out.liquidating, out.base = true, lq.L.Base+lq.Held() // winners' payments are held until the settlement (or Abandon)
		out.liqAsset = lq.hs[0].asset
		for i := range lq.Legs {
			g := &lq.Legs[i]
			out.legs = append(out.legs, legAudit{sym: lq.hs[i].idx, remaining: g.Remaining, bk: g.Bankruptcy, gain: g.Gain})
		}
	}
	return out
}

// checkOrders runs risk's consistency check and compares every open
// order's remaining quantity with risk's reservation of it (not while an
// amend of it is on its way: risk then holds the amended one); an
// untriggered conditional order has none.
func (a *accountActor) checkOrders() error {
	if a.e.failed.Load() {
		return nil
	}
	for i := range a.wallets {
		if err := a.wallets[i].acct.Check(); err != nil {
			return fmt.Errorf("account %s, %s wallet: %w", a.e.name, a.x.assets[i], err)
		}
	}
	conds := make([]int, len(a.syms))
	for _, o := range a.orders.Values() {
		if o.cond != nil && !o.cond.fired {
			if _, ok := a.risk(o.h).OrderQty(o.id); ok {
				return fmt.Errorf("account %s: untriggered order %d has a reservation", a.e.name, o.id)
			}
			conds[o.h.idx]++
			continue
		}
		if q, ok := a.risk(o.h).OrderQty(o.id); o.amending == 0 && (!ok || q != o.qty-o.filled) {
			return fmt.Errorf("account %s: order %d has %d open, risk reserves %d (%v)", a.e.name, o.id, o.qty-o.filled, q, ok)
		}
	}
	for i, n := range conds {
		if n != a.syms[i].conds {
			return fmt.Errorf("account %s: %d untriggered orders in %s, counted %d", a.e.name, n, a.x.symbols[i].sym.Name, a.syms[i].conds)
		}
	}
	return nil
}

// hash digests what decides the account's future: cash and balance, the
// deposits, fees and funding ledgers, positions, open orders (terms, client
// id, fills, status), the dead man's switch and the liquidation state; and
// the kept history (closed orders, fills, update times), so a replay that
// rebuilt it wrong shows. Not
// the event sequence a.seq: a refused order's event advances it, and a
// refusal must leave the hash alone.
func (a *accountActor) hash() uint64 {
	v := []uint64{uint64(a.e.id)}
	for i := range a.wallets {
		w := &a.wallets[i]
		v = append(v, uint64(w.acct.Cash()), uint64(w.acct.Balance()), uint64(w.acct.OrderMargin()),
			uint64(w.deposits), uint64(w.fees), uint64(w.funding))
	}
	for _, h := range a.x.symbols {
		if p, ok := a.risk(h).Position(h.sym); ok {
			v = append(v, uint64(h.idx), uint64(p.Qty), uint64(p.Cost), uint64(p.Margin), uint64(p.Leverage),
				uint64(p.BuyQty), uint64(p.SellQty), uint64(p.OrderMargin))
		}
		if f := a.syms[h.idx].funded; f != 0 { // decides ADL close adjustments
			v = append(v, 6, uint64(h.idx), uint64(f))
		}
	}
	for _, o := range a.orders.sorted() {
		v = append(v, uint64(o.id), uint64(o.h.idx), uint64(o.side), uint64(o.typ), uint64(o.tif), uint64(o.price),
			uint64(o.qty), uint64(o.filled), uint64(o.value), hashString(string(o.status)),
			flag(o.reduceOnly)|flag(o.postOnly)<<1, uint64(len(o.clientID)), hashString(o.clientID), uint64(a.risk(o.h).OrderLoss(o.id)))
		if c := o.cond; c != nil {
			v = append(v, hashString(string(c.typ)+"/"+string(c.by)), uint64(c.t.Price), uint64(c.t.Callback),
				flag(c.close)|flag(c.fired)<<1|uint64(c.t.Kind)<<2|flag(c.t.TakeProfit)<<4)
		}
		if o.pastBound { // its cancel on its way: never at a quiescent point (a snapshot's)
			v = append(v, 5)
		}
	}
	if a.deadman.timer != nil {
		v = append(v, 2)
	}
	if a.liq != nil {
		v = append(v, 1, uint64(a.liq.L.Base))
		if a.e.failed.Load() { // abandoned: all of it, so a restored copy that differs shows
			v = append(v, hashString(a.liq.Describe()))
		}
	}
	if a.partial != nil {
		v = append(v, 3, uint64(a.partial.o.id))
	}
	v = append(v, a.historyHash())
	return hashInts(v...)
}

// hashString digests s (FNV-1a).
func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func flag(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func hashInts(v ...uint64) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, x := range v {
		binary.LittleEndian.PutUint64(b[:], x)
		h.Write(b[:])
	}
	return h.Sum64()
}

// ---- gathering over all actors ----

// actorPIDs lists every actor: symbols, fund, ADL, then the accounts.
func (x *Exchange) actorPIDs() (pids []*actor.PID) {
	for _, h := range x.symbols {
		pids = append(pids, h.pid)
	}
	pids = append(pids, x.fund, x.adl, x.history)
	for _, e := range x.accounts.all() {
		pids = append(pids, e.pid)
	}
	return pids
}

// gather sends mk(pid, reply) to every pid and calls finish with the
// replies once all arrived (from the last replier's goroutine).
func gather[T any](x *Exchange, pids []*actor.PID, mk func(*actor.PID, func(T)) any, finish func([]T)) {
	if len(pids) == 0 {
		finish(nil)
		return
	}
	var mu sync.Mutex
	out := make([]T, 0, len(pids))
	reply := func(v T) {
		mu.Lock()
		out = append(out, v)
		last := len(out) == len(pids)
		mu.Unlock()
		if last {
			finish(out)
		}
	}
	for _, p := range pids {
		x.post(p, nil, mk(p, reply))
	}
}

// keyed is one actor's answer to a probe, tagged with its process id.
type keyed struct {
	id string
	v  uint64
}

func (x *Exchange) audit(done func(AuditReport)) {
	gather(x, x.actorPIDs(), func(_ *actor.PID, r func(any)) any { return &auditMsg{reply: r} }, func(parts []any) {
		done(x.sumAudit(parts))
	})
}

func (x *Exchange) sumAudit(parts []any) AuditReport {
	n := len(x.symbols)
	r := AuditReport{Long: make([]book.Lots, n), Short: make([]book.Lots, n), Assets: make([]AssetAudit, len(x.assets)),
		HeldFills: make([]HeldFill, n)}
	for i, name := range x.assets {
		r.Assets[i].Asset = name
	}
	marks := make([]book.Ticks, n)
	var accts []accountAudit
	var adlOI *adlAudit
	for _, p := range parts {
		switch v := p.(type) {
		case symbolAudit:
			marks[v.sym] = v.mark
			r.Resting += v.resting
		case fundAudit:
			for i, f := range v.assets {
				as := &r.Assets[i]
				as.Fund, as.FundDeposits, as.Uncovered, as.FundReserved = f.balance, f.deposits, f.uncovered, f.reserved
			}
			if v.check != nil {
				r.Err = v.check
			}
		case adlAudit:
			adlOI = &v
			r.Earmarked = v.earmarked
		case accountAudit:
			accts = append(accts, v)
		}
	}
	// By name, not by the order the answers came in: the lists it makes
	// (failed, negative) read the same every time.
	slices.SortFunc(accts, func(a, b accountAudit) int { return strings.Compare(a.name, b.name) })
	equity := make([]market.Money, len(r.Assets)) // a failed account's, per asset
	for _, a := range accts {
		negative, flat := false, true
		clear(equity)
		for i, w := range a.wallets {
			if a.failed {
				equity[i] += w.balance
			}
			as := &r.Assets[i]
			as.Deposits += w.deposits
			as.Balances += w.balance
			as.Held += w.held
			as.Fees += w.fees - w.funding
			negative = negative || w.balance < 0
		}
		r.OpenOrders += a.openOrders
		if a.check != nil && r.Err == nil {
			r.Err = a.check
		}
		if a.failed {
			r.Failed = append(r.Failed, a.name)
		}
		for i, h := range x.symbols {
			q, cost := a.qty[i], a.cost[i]
			flat = flat && q == 0
			if a.held != nil { // the failed account's side of fills it did not book: with its position
				g := &a.held[i]
				r.HeldFills[i].add(*g)
				q, cost = q+g.net(), cost+g.Cost
				flat = flat && g.Fills == 0
			}
			as := &r.Assets[h.asset]
			if a.failed && (q != 0 || cost != 0) {
				equity[h.asset] += h.sym.PnL(q, cost, marks[i])
			}
			switch {
			case cost == 0 && q == 0:
			case h.sym.Kind == market.Inverse:
				// Every position at one mark is worth nothing together
				// (Σ qty = 0), exactly; an inverse value rounds position by
				// position, so the exact sum of their uPnLs is Σ −cost.
				as.Unrealized -= cost
			default: // a held close nets to 0 lots: its cost is what it realized
				as.Unrealized += h.sym.PnL(q, cost, marks[i])
			}
			r.addOI(i, q)
		}
		if negative {
			// A wallet below zero with a position or a liquidation is only
			// counted: risk lets cash dip while positions stay open.
			if a.liquidating || !flat {
				r.NegativeOpen++
			} else {
				r.Negative = append(r.Negative, a.name)
			}
		}
		if a.liquidating {
			if !a.failed { // an abandoned one is frozen, not in flight: leaked cover must still show
				r.Liquidating++
			}
			as := &r.Assets[a.liqAsset]
			v := a.base
			for _, g := range a.legs {
				s := x.symbols[g.sym].sym
				v += g.gain + s.ValueDiff(marks[g.sym], g.bk, g.remaining)
				r.addOI(g.sym, g.remaining)
			}
			as.InFlight += v
			if a.failed {
				equity[a.liqAsset] += v
			}
		}
		if a.failed {
			for i, eq := range equity {
				r.Assets[i].FailedShortfall += max(0, -eq)
			}
		}
	}
	slices.Sort(r.Negative)
	r.Failures, r.Halted = x.failed.all(), x.failed.halted.Load() != nil
	r.AssetAudit = r.Assets[0]
	if adlOI != nil && adlOI.err != nil && r.Err == nil {
		r.Err = adlOI.err
	}
	r.OK = r.evaluate()
	return r
}

// evaluate says whether every invariant holds and trading is not halted.
func (r *AuditReport) evaluate() bool {
	ok := !r.Halted && r.Conserved() && len(r.Negative) == 0 && r.Err == nil && (r.Liquidating > 0 || r.Earmarked == 0)
	for _, as := range r.Assets {
		ok = ok && as.Fund >= 0 && as.Uncovered == 0 && (r.Liquidating > 0 || as.FundReserved == 0)
	}
	for i := range r.Long {
		ok = ok && r.Long[i] == r.Short[i]
	}
	return ok
}

func (r *AuditReport) addOI(sym int, q book.Lots) {
	if q > 0 {
		r.Long[sym] += q
	} else {
		r.Short[sym] -= q
	}
}

// stateHash digests every actor's hash (by process id) and, per symbol,
// the book's update sequence (a depth read: the symbol actor's own hash is
// its book's), its index and its mark.
func (x *Exchange) stateHash(done func(uint64)) {
	gather(x, x.actorPIDs(), func(p *actor.PID, r func(keyed)) any {
		return &hashMsg{reply: func(h uint64) { r(keyed{p.Id, h}) }}
	}, func(parts []keyed) {
		slices.SortFunc(parts, func(a, b keyed) int { return strings.Compare(a.id, b.id) })
		v := make([]uint64, 0, 2*len(parts)+3*len(x.symbols))
		for _, p := range parts {
			v = append(v, hashInts(uint64(len(p.id))), p.v)
		}
		pids := make([]*actor.PID, len(x.symbols))
		for i, h := range x.symbols {
			pids[i] = h.pid
		}
		gather(x, pids, func(p *actor.PID, r func(keyed)) any {
			return &depthMsg{levels: 1, done: func(d wire.DepthReply) { r(keyed{p.Id, d.Seq}) }}
		}, func(seqs []keyed) {
			seq := make(map[string]uint64, len(seqs))
			for _, k := range seqs {
				seq[k.id] = k.v
			}
			for _, h := range x.symbols { // in symbol order
				v = append(v, seq[h.pid.Id], uint64(h.index.Load()), uint64(h.lastMark()))
			}
			done(hashInts(v...))
		})
	})
}

// Quiesce blocks until no actor has work left (see quiesce): a barrier for
// tests and benchmarks outside this package; under live traffic it may
// wait as long as the traffic lasts.
func (x *Exchange) Quiesce() { x.quiesce() }

// quiesce blocks until no actor has work left: two consecutive rounds of
// probes see the same per-actor message counts, and no fast retry timer is
// pending. (A message processed between an actor's two probes would change
// its count; one sent later would have to be caused by such a message.)
func (x *Exchange) quiesce() {
	var last []keyed
	for {
		pids := x.actorPIDs()
		ch := make(chan []keyed, 1)
		gather(x, pids, func(p *actor.PID, r func(keyed)) any {
			return &probeMsg{reply: func(n uint64) { r(keyed{p.Id, n}) }}
		}, func(parts []keyed) { ch <- parts })
		cur := <-ch
		slices.SortFunc(cur, func(a, b keyed) int { return strings.Compare(a.id, b.id) })
		pending := x.timers.Load() != 0
		if !pending && slices.Equal(last, cur) {
			return
		}
		if pending {
			time.Sleep(x.retry)
		}
		last = cur
	}
}
