package adl

import (
	"fmt"

	"github.com/google/btree"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// Position sides. A long is a net buy (book.Buy), a short a net sell.
const (
	Long  = book.Buy
	Short = book.Sell
)

// Mode says how a symbol absorbs a loss the fund cannot cover.
type Mode uint8

const (
	// ModeADL closes the uncovered quantity against the top-ranked opposite
	// positions at the bankruptcy price (Deleverage), so no money is lost.
	ModeADL Mode = iota
	// ModeSocialized lets the liquidation fill beyond the bankruptcy price
	// and charges the money deficit to the profitable opposite positions in
	// proportion to their profit (Socialize). Quantity the book cannot absorb
	// still goes through Deleverage.
	ModeSocialized
)

// ParseMode reads the config spelling: "" or "adl", or "socialized".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "adl":
		return ModeADL, nil
	case "socialized":
		return ModeSocialized, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrInvalidMode, s)
}

func (m Mode) String() string {
	if m == ModeSocialized {
		return "socialized"
	}
	return "adl"
}

// Config is one symbol's ADL setup. Kind, Multiplier and InverseK describe
// the contract as market.Symbol does (pass its fields of the same names),
// so values here are exactly market.Symbol.Value's.
type Config struct {
	Symbol string
	// Kind is the contract kind: market.Linear (0 means linear too) or
	// market.Inverse.
	Kind market.ContractKind
	// Multiplier is a linear contract's Money value of one tick × one lot
	// (tick size × lot size × 1e8): notional = qty × price × Multiplier.
	// 0 for an inverse contract.
	Multiplier market.Money
	// InverseK is an inverse contract's Money × ticks per lot (lot ×
	// contract size × 1e8 / tick): notional = ⌊qty × InverseK / price⌋.
	// 0 for a linear contract.
	InverseK market.Money
	Mode     Mode
	// IndicatorRefreshMs bounds how often Indicator recomputes the quintile
	// cuts (an O(n) pass); 0 refreshes on every query.
	IndicatorRefreshMs int64
}

// Degree of the per-bucket B-trees and size of the shared node free list.
const (
	treeDegree   = 32
	freeListSize = 4096
)

// item is what the B-trees hold, by value: ordered by entry key, then by
// margin ratio b, then by account (the deterministic tie-break), so one
// key's positions lie in rank order (see merge.go). The position record is
// found through the account index (rec): a 24-byte item keeps Update at a
// bare btree delete+insert (32 bytes cost it a quarter at 1 M positions).
type item struct {
	key  float64
	b    float64
	acct book.AccountID
}

func itemLess(a, b item) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.b != b.b {
		return a.b < b.b
	}
	return a.acct < b.acct
}

// position is one account's position in the symbol, as last reported.
type position struct {
	acct   book.AccountID
	qty    book.Lots
	cost   market.Money
	margin market.Money
	key    float64 // cost per lot: entry price × Multiplier, or ≈ InverseK / entry price; the tree key
	b      float64 // margin / cost
	side   book.Side
	bucket uint8
	live   bool
	// inTree: the record's item (key, b, account) is in its side's tree
	// bucket; dirty: it is in Ranking.dirty, to be inserted at sync.
	inTree, dirty bool
	// bankrupt: the position is a liquidation's remainder (Report): its
	// margin is a token, and it guards its own closes by its bankruptcy
	// price, so deleveraging does not test whether it can afford one;
	// bound is that price (0: not known, a version 2 snapshot's), past
	// which deleveraging passes it over as the remainder would refuse.
	bankrupt bool
	bound    book.Ticks
}

// pastBound says whether a liquidation's remainder would refuse a close at
// price: a long sells no lower than its bound, a short buys no higher.
func (p *position) pastBound(price book.Ticks) bool {
	return p.bound > 0 && (p.side == Long && price < p.bound || p.side == Short && price > p.bound)
}

func (p *position) item() item { return item{key: p.key, b: p.b, acct: p.acct} }

// rec returns the record of a ranked item.
func (rk *Ranking) rec(it item) int32 {
	idx, _ := rk.index.get(it.acct)
	return idx
}

// sideBook holds one side's buckets.
type sideBook struct {
	trees [numBuckets]*btree.BTreeG[item]
	count int
	oi    book.Lots
	cuts  cuts
}

// Ranking is one symbol's ADL queue: both sides, every open position. It is
// single-threaded and deterministic; the mark is a parameter (SetMark).
type Ranking struct {
	cfg     Config
	inverse bool    // cfg.Kind == market.Inverse
	mult    float64 // linear: cfg.Multiplier
	k       float64 // inverse: cfg.InverseK
	mark    book.Ticks
	sides   [2]sideBook
	pos     []position
	free    []int32
	index   accountIndex
	m       merger

	partials []partial // deleverage runs
	skipped  []skip    // a request's passed-over positions
	scratch  []scored  // indicator refresh

	// promised is, per account, the quantity planned in forced closes
	// (DeleverageBatch) the account has not acknowledged yet (Report).
	promised map[book.AccountID]book.Lots
	charges  []Charge // SetAside's scratch
	// aside is, per bankrupt side, the winners' profit set aside for
	// socialized liquidations in flight (SetAside).
	aside [2]market.Money
	// gone is, per bankrupt side, the profit winners opposite it took out
	// of the ranking (closing or reducing, valued at the mark then) while
	// profit was set aside for that side, or after a round charged them:
	// they hold it as cash now, and SocializeAt charges it as it charges a
	// position's (Charge.Closed); it starts afresh with the first set-aside
	// after every one was released. charged is what rounds charged each
	// position so far, which shrinks with the position (chargedOut): a
	// later round charges only the profit beyond it.
	gone    [2]map[book.AccountID]market.Money
	charged [2]map[book.AccountID]market.Money
	// unable is, per bankrupt side, the winners that could not pay all of
	// a charge (Unable), by kind (unableLive, unableClosed): SocializeAt
	// passes those charges over until the next fresh set-aside, or a
	// round's dust would fall on the same one for ever.
	unable [2]map[book.AccountID]uint8

	snapAccts []book.AccountID // AppendSnapshot's scratch

	// The trees lag the records: Update changes a record, its side's count
	// and open interest at once, but the trees only when something walks
	// them (sync): stale items to delete, then records to insert. Only the
	// newest report of an account between two walks costs a tree change,
	// and walks (a deleverage, the queue listing) are rare.
	dels  []treeDel
	dirty []int32
}

// treeDel is a stale item and where it is.
type treeDel struct {
	it     item
	side   uint8
	bucket uint8
}

// New returns an empty ranking for one symbol. A linear contract (Kind 0
// or market.Linear) needs Multiplier > 0 and InverseK 0, an inverse one
// InverseK > 0 and Multiplier 0.
func New(cfg Config) (*Ranking, error) {
	inverse := cfg.Kind == market.Inverse
	linear := cfg.Kind == 0 || cfg.Kind == market.Linear
	if linear && (cfg.Multiplier <= 0 || cfg.InverseK != 0) || inverse && (cfg.InverseK <= 0 || cfg.Multiplier != 0) ||
		!linear && !inverse || cfg.IndicatorRefreshMs < 0 || cfg.Mode > ModeSocialized {
		return nil, fmt.Errorf("%w: kind %v, multiplier %d, inverse k %d, indicator refresh %d ms, mode %d",
			ErrInvalidConfig, cfg.Kind, cfg.Multiplier, cfg.InverseK, cfg.IndicatorRefreshMs, cfg.Mode)
	}
	rk := &Ranking{cfg: cfg, inverse: inverse, mult: float64(cfg.Multiplier), k: float64(cfg.InverseK),
		promised: map[book.AccountID]book.Lots{}}
	fl := btree.NewFreeListG[item](freeListSize)
	for s := range rk.sides {
		for i := range rk.sides[s].trees {
			rk.sides[s].trees[i] = btree.NewWithFreeListG(treeDegree, itemLess, fl)
		}
	}
	rk.m.init(rk)
	return rk, nil
}

// Config returns the symbol's config.
func (rk *Ranking) Config() Config { return rk.cfg }

func sideIndex(s book.Side) int { return int(s) - 1 }

func validSide(s book.Side) bool { return s == Long || s == Short }

// SetMark records the mark price. It is O(1): nothing is re-ranked, because
// every tree key is independent of the mark (see doc.go).
func (rk *Ranking) SetMark(mark book.Ticks) error {
	if mark <= 0 {
		return ErrInvalidPrice
	}
	rk.mark = mark
	return nil
}

// Mark returns the last mark price (0 before the first SetMark).
func (rk *Ranking) Mark() book.Ticks { return rk.mark }

// Update sets an account's position: side, absolute qty, entry cost (the
// magnitude of the position's cost basis, its fills' summed values: qty ×
// entry price × Multiplier for a linear contract, about qty × InverseK /
// entry price for an inverse one; risk's |PositionState.Cost|) and margin (the
// collateral behind it excluding its own unrealized PnL: isolated margin, or
// the cross-margin equity share the risk layer assigns). qty 0 removes the
// position. O(1), no allocation once the account is known; the tree
// change waits for the next walk (sync).
func (rk *Ranking) Update(acct book.AccountID, side book.Side, qty book.Lots, cost, margin market.Money) error {
	switch {
	case qty < 0:
		return ErrInvalidQty
	case qty > 0 && !validSide(side):
		return ErrInvalidSide
	case qty > 0 && cost <= 0:
		return ErrInvalidCost
	case qty > 0 && margin <= 0:
		return ErrInvalidMargin
	}
	idx, ok := rk.index.get(acct)
	if ok {
		rk.noteGone(idx, side, qty)
	}
	if qty == 0 {
		if ok {
			rk.unlink(idx)
			rk.release(idx)
		}
		return nil
	}
	if !ok {
		idx = rk.alloc(acct)
	} else if p := &rk.pos[idx]; p.side == side && p.qty == qty && p.cost == cost && p.margin == margin {
		return nil // nothing changed
	} else {
		rk.unlink(idx)
	}
	p := &rk.pos[idx]
	p.side, p.qty, p.cost, p.margin = side, qty, cost, margin
	rk.link(idx)
	return nil
}

// alloc takes a free record for acct and indexes it.
func (rk *Ranking) alloc(acct book.AccountID) int32 {
	var idx int32
	if n := len(rk.free); n > 0 {
		idx = rk.free[n-1]
		rk.free = rk.free[:n-1]
	} else {
		rk.pos = append(rk.pos, position{})
		idx = int32(len(rk.pos) - 1)
	}
	rk.pos[idx] = position{acct: acct}
	rk.index.set(acct, idx)
	return idx
}

// release frees an unlinked record.
func (rk *Ranking) release(idx int32) {
	rk.index.del(rk.pos[idx].acct)
	rk.pos[idx] = position{}
	rk.free = append(rk.free, idx)
}

// link computes the record's key and bucket and counts it; sync inserts
// it into its tree.
func (rk *Ranking) link(idx int32) {
	p := &rk.pos[idx]
	p.key = float64(p.cost) / float64(p.qty)
	p.b = float64(p.margin) / float64(p.cost)
	p.bucket = uint8(bucketOf(p.b))
	p.live = true
	sb := &rk.sides[sideIndex(p.side)]
	sb.count++
	sb.oi += p.qty
	if !p.dirty {
		p.dirty = true
		rk.dirty = append(rk.dirty, idx)
		// A released record's entry stays behind; bound them.
		if len(rk.dirty) > 2*len(rk.pos)+1024 {
			rk.sync()
		}
	}
}

// unlink uncounts the record (it stays allocated); sync deletes its item
// from its tree.
func (rk *Ranking) unlink(idx int32) {
	p := &rk.pos[idx]
	sb := &rk.sides[sideIndex(p.side)]
	if p.inTree {
		rk.dels = append(rk.dels, treeDel{it: p.item(), side: uint8(sideIndex(p.side)), bucket: p.bucket})
		p.inTree = false
	}
	sb.count--
	sb.oi -= p.qty
	p.live = false
}

// sync brings the trees up to the records: first every stale item out,
// then every changed record in. Whatever walks the trees calls it first.
func (rk *Ranking) sync() {
	for _, d := range rk.dels {
		rk.sides[d.side].trees[d.bucket].Delete(d.it)
	}
	for _, idx := range rk.dirty {
		p := &rk.pos[idx]
		if !p.dirty { // released since (and maybe dirty again, later in the list)
			continue
		}
		p.dirty = false
		if p.live {
			rk.sides[sideIndex(p.side)].trees[p.bucket].ReplaceOrInsert(p.item())
			p.inTree = true
		}
	}
	rk.dels, rk.dirty = rk.dels[:0], rk.dirty[:0]
}

// Count returns the number of positions on a side.
func (rk *Ranking) Count(side book.Side) int {
	if !validSide(side) {
		return 0
	}
	return rk.sides[sideIndex(side)].count
}

// OpenInterest returns the total quantity held on a side.
func (rk *Ranking) OpenInterest(side book.Side) book.Lots {
	if !validSide(side) {
		return 0
	}
	return rk.sides[sideIndex(side)].oi
}

// PositionInfo is a position as the ranking holds it, valued at the mark.
type PositionInfo struct {
	Account  book.AccountID
	Side     book.Side
	Qty      book.Lots
	Cost     market.Money
	Margin   market.Money
	PnL      market.Money // at the mark; 0 before the first mark or if it overflows
	Score    float64      // ranking value at the mark
	Leverage float64      // effective leverage at the mark
}

// Position returns an account's position.
func (rk *Ranking) Position(acct book.AccountID) (PositionInfo, bool) {
	idx, ok := rk.index.get(acct)
	if !ok {
		return PositionInfo{}, false
	}
	info, _ := rk.info(idx)
	return info, true
}

// info values record idx at the mark; ok is false if its PnL overflows.
func (rk *Ranking) info(idx int32) (PositionInfo, bool) {
	p := &rk.pos[idx]
	info := PositionInfo{Account: p.acct, Side: p.side, Qty: p.qty, Cost: p.cost, Margin: p.margin}
	if rk.mark == 0 {
		return info, true
	}
	r, rl, g := ratios(rk.up(p.side), p.key, rk.markValue())
	info.Score, info.Leverage = score(r, rl, g, p.b), leverage(r, rl, g, p.b)
	var ok bool
	info.PnL, ok = rk.pnl(p.side, p.qty, p.cost, rk.mark)
	return info, ok
}

// markValue is the mark's value per lot, comparable with position keys:
// mark × Multiplier, or InverseK / mark (unrounded) for an inverse contract.
func (rk *Ranking) markValue() float64 {
	if rk.inverse {
		return rk.k / float64(rk.mark)
	}
	return float64(rk.mark) * rk.mult
}

// up reports whether a position on side gains as the value per lot rises
// (its value has the sign of its side): a linear long or an inverse short.
// The scoring and the merge see an inverse long as a linear short and the
// other way round (doc.go).
func (rk *Ranking) up(side book.Side) bool { return (side == Long) != rk.inverse }

// exact is the record's score at the mark.
func (rk *Ranking) exact(idx int32) float64 {
	p := &rk.pos[idx]
	r, rl, g := ratios(rk.up(p.side), p.key, rk.markValue())
	return score(r, rl, g, p.b)
}

// Check verifies the internal state: every live record is in the tree its
// side and bucket say, counts and open interest add up, the index is exact.
func (rk *Ranking) Check() error {
	rk.sync()
	var count [2]int
	var oi [2]book.Lots
	for i := range rk.pos {
		p := &rk.pos[i]
		if !p.live {
			continue
		}
		s := sideIndex(p.side)
		count[s]++
		oi[s] += p.qty
		if idx, ok := rk.index.get(p.acct); !ok || idx != int32(i) {
			return fmt.Errorf("adl: record %d (account %d) not indexed", i, p.acct)
		}
		if p.key != float64(p.cost)/float64(p.qty) || p.b != float64(p.margin)/float64(p.cost) || int(p.bucket) != bucketOf(p.b) {
			return fmt.Errorf("adl: record %d (account %d) has a stale key or bucket", i, p.acct)
		}
		if !rk.sides[s].trees[p.bucket].Has(p.item()) {
			return fmt.Errorf("adl: record %d (account %d) missing from its tree", i, p.acct)
		}
	}
	if rk.index.len() != count[0]+count[1] {
		return fmt.Errorf("adl: index has %d accounts, %d live records", rk.index.len(), count[0]+count[1])
	}
	for s := range rk.sides {
		sb := &rk.sides[s]
		n := 0
		for _, t := range sb.trees {
			n += t.Len()
		}
		if n != count[s] || sb.count != count[s] || sb.oi != oi[s] {
			return fmt.Errorf("adl: side %d holds %d items, counts %d/%d, oi %d/%d", s, n, sb.count, count[s], sb.oi, oi[s])
		}
	}
	return nil
}
