package adl

import (
	"math"

	"github.com/google/btree"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// The merge: exact ranking at the current mark without re-ranking.
//
// Within one bucket, cut the entry-key line at the turning points of
// score(·, bucketLo) (closed forms below). On each piece that function is
// monotone in r, and r is monotone in the key, so a stream that walks the
// piece key by key in the direction of falling score(·, bucketLo) has, at
// its head, an upper bound for every item at its key and beyond. Turning
// points (long r_m, short r_m and r*):
//
//	long:  r_m = sqrt(1-b) - 1          key split mk/sqrt(1-b)
//	short: r_m = 1 - sqrt(1+b)          key split mk/sqrt(1+b)
//	       r*  = sqrt(b²+b) - b         key split mk/(1-r*)
//
// "Long" and "short" here are the two shapes of r in g: r = g−1 for a
// position that gains as the value per lot rises (Ranking.up: a linear long
// or an inverse short), r = 1−g for the other (a linear short or an inverse
// long); keys and mk are values per lot in either contract (doc.go).
//
// Long keys [0, mk/sqrt(1-b)) walk up (r falls from its top, score falls);
// keys above walk down (r rises from the most negative, loss score falls).
// Short keys: [0, split_m) up, [split_m, split*) down, [split*, ∞) up.
//
// One key, one run. The trees order items by (key, b, account). At one key
// r and g are fixed and the score falls as b grows (profit: r·g/(b+r); loss:
// r·(b+r)/g once the equity b+r > 0, and −Inf for b ≤ bustB, a prefix: the
// equity, score.go, is monotone in b), so the key's live items in tree
// order are already in rank order, and positions sharing entry and margin
// ratio (a group) are contiguous, by account. When a
// stream head leaves the heap, its key becomes a run cursor: an exact entry
// whose head bounds the rest of the run. Popping it emits the head and
// pushes the next item, one tree step, so k positions that share an entry
// price cost O(k log n) when they are closed and nothing when they are not
// (the old per-item bounds all sat above the group's one exact score, so the
// whole group was scored and heaped before the first could come out). Two
// exceptions keep the order exact: groups whose scores tie in float64 (r =
// 0 scores every b 0) leave the run as separate group cursors that the heap
// merges by account, and a key's bankrupt prefix waits in the heap as one
// −Inf span, expanded into group cursors only if the merge gets there.

// stream walks one piece [lo, hi) of one bucket's tree, key by key.
type stream struct {
	tree     *btree.BTreeG[item]
	lo, hi   float64
	bLo      float64
	desc     bool
	bankrupt bool
	cur      item // an item at the stream's current key
}

// entryKind says what a heap entry stands for.
type entryKind uint8

const (
	// kindHead is a stream's head: v bounds every item at its key and
	// beyond in the stream's direction.
	kindHead entryKind = iota
	// kindSpan is a key's bankrupt items (b ≤ −r, all scoring −Inf) from
	// it on, expanded into group cursors when popped.
	kindSpan
	// kindBucket is a bucket whose streams are not open yet: v bounds
	// every item in it (see bucketBound).
	kindBucket
	// kindSingle is one exact position without successor: one partly
	// closed earlier in a deleverage run, at its reduced score.
	kindSingle
	// kindGroup is an exact cursor: it scores v and every item it hides
	// comes after it in rank order — the rest of its group (same key and
	// b, higher accounts, same score) and, for a run, the key's later
	// groups (scores below v).
	kindGroup
)

// entry is a heap element.
type entry struct {
	v    float64
	kind entryKind
	run  bool // kindGroup: go on to the key's next group after this one
	last bool // kindGroup: the last item of its key (no successor to seek)
	s    int32
	it   item
}

// before orders the heap: higher value first; on equal values an entry that
// is not exact first (it may hide an equal score with a lower account), then
// account ascending among exact ones.
func (a *entry) before(b *entry) bool {
	if a.v != b.v {
		return a.v > b.v
	}
	ae, be := a.kind >= kindSingle, b.kind >= kindSingle
	if ae != be {
		return !ae
	}
	if ae {
		return a.it.acct < b.it.acct
	}
	if a.s != b.s {
		return a.s < b.s
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return itemLess(a.it, b.it)
}

// merger is the reusable state of one merge; a Ranking owns one.
type merger struct {
	rk      *Ranking
	up      bool // the side gains as the value per lot rises (Ranking.up)
	mk      float64
	sb      *sideBook
	scoredN int // positions scored, for benchmarks
	streams []stream
	heap    []entry

	// seek state, read by visit and peek (method values made once, so
	// tree walks do not allocate a closure each time).
	visitFn  btree.ItemIteratorG[item]
	peekFn   btree.ItemIteratorG[item]
	peeked   [2]item
	npeek    int
	skip     bool
	skipItem item
	lo, hi   float64
	found    bool
	out      item
}

func (m *merger) init(rk *Ranking) {
	m.rk = rk
	m.visitFn = m.visit
	m.peekFn = m.peek
}

// begin starts a merge over one side at the current mark. Each non-empty
// bucket enters the heap as one entry bounding all of it; its streams are
// opened (a tree seek each) only if that bound reaches the top, so buckets
// that cannot hold a winner cost no seek.
func (m *merger) begin(side book.Side) {
	m.rk.sync()
	m.up = m.rk.up(side)
	m.mk = m.rk.markValue()
	m.streams = m.streams[:0]
	m.heap = m.heap[:0]
	m.sb = &m.rk.sides[sideIndex(side)]
	for i, t := range m.sb.trees {
		if t.Len() != 0 {
			m.push(entry{v: m.bucketBound(t, bucketLo[i]), kind: kindBucket, s: int32(i)})
		}
	}
}

// bucketBound bounds every score in a bucket with floor bLo. Losses score
// at most 0. A short's profit score r(1−r)/(b+r) peaks at r* (1 as r → 0
// when bLo is 0); a long's r(1+r)/(b+r) rises with r, so the bucket's
// lowest entry key, its highest r, bounds it.
func (m *merger) bucketBound(t *btree.BTreeG[item], bLo float64) float64 {
	if m.up {
		it, _ := t.Min()
		if r, rl, g := ratios(m.up, it.key, m.mk); r > 0 {
			return bound(r, rl, g, bLo)
		}
		return bound(0, 0, 1, bLo)
	}
	if bLo == 0 {
		return bound(1, 0, 1, 0) // the supremum 1, widened
	}
	rStar := math.Sqrt(float64(bLo*bLo)+bLo) - bLo
	return bound(rStar, 0, 1-rStar, bLo)
}

// open opens bucket i's streams.
func (m *merger) open(i int32) {
	t := m.sb.trees[i]
	ps, n := pieces(m.up, bucketLo[i], bucketHi(int(i)), m.mk)
	for _, p := range ps[:n] {
		m.add(t, bucketLo[i], p)
	}
}

// piece is a key range [lo, hi) of a bucket and the walk direction in which
// score(·, bLo) falls on it. A bankrupt piece holds only positions whose
// equity is surely gone (r ≤ −bHi): they all score −Inf.
type piece struct {
	lo, hi   float64
	desc     bool
	bankrupt bool
}

// bankruptMargin keeps float rounding from putting a live position in a
// bankrupt piece: r ≤ −bHi·(1+bankruptMargin) is bankrupt by a wide margin.
const bankruptMargin = 1e-9

// pieces cuts a bucket holding b in [bLo, bHi) at the turning points of
// score(·, bLo) for mark value mk (see the formulas above), and splits off
// the surely-bankrupt keys.
func pieces(up bool, bLo, bHi, mk float64) (ps [4]piece, n int) {
	inf := math.Inf(1)
	// the loss beyond which every position of the bucket is bankrupt
	rBust := -bHi - float64(bHi*bankruptMargin)
	if up {
		split := mk / math.Sqrt(1-bLo)
		bust := inf // r > −1 always: no bankrupt piece when bHi ≥ 1
		if rBust > -1 {
			bust = mk / (1 + rBust)
		}
		return [4]piece{{-inf, split, false, false}, {split, bust, true, false}, {bust, inf, false, true}}, 3
	}
	bust := mk / (1 - rBust) // 0 when bHi is +Inf
	splitM := mk / math.Sqrt(1+bLo)
	rStar := math.Sqrt(float64(bLo*bLo)+bLo) - bLo
	splitS := mk / (1 - rStar)
	return [4]piece{{-inf, bust, false, true}, {bust, splitM, false, false}, {splitM, splitS, true, false}, {splitS, inf, false, false}}, 4
}

// add opens a stream and pushes its head, if any.
func (m *merger) add(t *btree.BTreeG[item], bLo float64, p piece) {
	if !(p.lo < p.hi) {
		return
	}
	s := stream{tree: t, lo: p.lo, hi: p.hi, bLo: bLo, desc: p.desc, bankrupt: p.bankrupt}
	var ok bool
	if p.desc {
		s.cur, ok = m.seekDown(t, item{key: math.Nextafter(p.hi, math.Inf(-1)), b: math.Inf(1), acct: math.MaxUint64}, p.lo, p.hi)
	} else {
		s.cur, ok = m.seekUp(t, item{key: p.lo, b: math.Inf(-1)}, false, p.lo, p.hi)
	}
	if !ok {
		return
	}
	m.streams = append(m.streams, s)
	m.pushHead(int32(len(m.streams) - 1))
}

func (m *merger) pushHead(si int32) {
	s := &m.streams[si]
	v := math.Inf(-1)
	if !s.bankrupt {
		r, rl, g := ratios(m.up, s.cur.key, m.mk)
		v = bound(r, rl, g, s.bLo)
	}
	m.push(entry{v: v, kind: kindHead, s: si, it: s.cur})
}

// seekUp returns the first item at or after pivot (after it if skip and an
// item orders equal to it) whose key is in [lo, hi).
func (m *merger) seekUp(t *btree.BTreeG[item], pivot item, skip bool, lo, hi float64) (item, bool) {
	m.skip, m.skipItem, m.lo, m.hi, m.found = skip, pivot, lo, hi, false
	t.AscendGreaterOrEqual(pivot, m.visitFn)
	return m.out, m.found
}

// seekDown returns the last item at or before pivot whose key is in [lo, hi).
func (m *merger) seekDown(t *btree.BTreeG[item], pivot item, lo, hi float64) (item, bool) {
	m.skip, m.lo, m.hi, m.found = false, lo, hi, false
	t.DescendLessOrEqual(pivot, m.visitFn)
	return m.out, m.found
}

// visit takes the first item in [lo, hi), skipping one that orders equal
// to skipItem.
func (m *merger) visit(it item) bool {
	if m.skip {
		m.skip = false
		if !itemLess(it, m.skipItem) && !itemLess(m.skipItem, it) {
			return true
		}
	}
	if it.key < m.lo || it.key >= m.hi {
		return false
	}
	m.found, m.out = true, it
	return false
}

// peek collects the stream head and the item after it in the walk, if in
// [lo, hi).
func (m *merger) peek(it item) bool {
	if it.key < m.lo || it.key >= m.hi {
		return false
	}
	m.peeked[m.npeek] = it
	m.npeek++
	return m.npeek < 2
}

// oneKey is the key range [k, k] as a half-open range.
func oneKey(k float64) (lo, hi float64) { return k, math.Nextafter(k, math.Inf(1)) }

// advance moves stream si to its next key; false when it is done.
func (m *merger) advance(si int32) bool {
	s := &m.streams[si]
	var ok bool
	if s.desc {
		s.cur, ok = m.seekDown(s.tree, item{key: s.cur.key, b: math.Inf(-1)}, s.lo, s.hi)
	} else {
		s.cur, ok = m.seekUp(s.tree, item{key: s.cur.key, b: math.Inf(1)}, false, s.lo, s.hi)
	}
	return ok
}

// afterGroup returns the first item of the next group at it's key.
func (m *merger) afterGroup(si int32, it item) (item, bool) {
	lo, hi := oneKey(it.key)
	return m.seekUp(m.streams[si].tree, item{key: it.key, b: it.b, acct: math.MaxUint64}, true, lo, hi)
}

// enterHead turns the key of stream si's head into cursors and moves the
// stream to its next key. One walk looks at the head and the item after it:
// a key holding one position (the common case in a spread-out book) is
// pushed as it is, and the item after is the stream's next head, so such a
// key costs one tree seek in all.
func (m *merger) enterHead(si int32) {
	s := &m.streams[si]
	m.lo, m.hi, m.npeek = s.lo, s.hi, 0
	if s.desc {
		s.tree.DescendLessOrEqual(s.cur, m.peekFn)
	} else {
		s.tree.AscendGreaterOrEqual(s.cur, m.peekFn)
	}
	if m.npeek == 2 && m.peeked[1].key == s.cur.key {
		m.enterKey(si)
		if m.advance(si) {
			m.pushHead(si)
		}
		return
	}
	m.push(entry{v: m.score(s.cur), kind: kindGroup, last: true, s: si, it: s.cur})
	if m.npeek == 2 {
		s.cur = m.peeked[1]
		m.pushHead(si)
	}
}

// enterKey turns the key of stream si's head into cursors: its bankrupt
// prefix as a span, the rest as a run.
func (m *merger) enterKey(si int32) {
	s := &m.streams[si]
	first := s.cur
	lo, hi := oneKey(first.key)
	if s.desc { // the head is the key's last item
		first, _ = m.seekUp(s.tree, item{key: first.key, b: math.Inf(-1)}, false, lo, hi)
	}
	r, rl, _ := ratios(m.up, first.key, m.mk)
	if r < 0 && equity(first.b, r, rl) <= 0 { // the same test as score's: bankrupt
		m.push(entry{v: math.Inf(-1), kind: kindSpan, s: si, it: first})
		var ok bool
		// the live part starts after the last bankrupt b
		if first, ok = m.seekUp(s.tree, item{key: first.key, b: bustB(r, rl), acct: math.MaxUint64}, true, lo, hi); !ok {
			return
		}
	}
	m.enterRun(si, first, m.score(first))
}

// enterRun pushes the run of groups at g's key from group g on (g scores
// v): as one run cursor, after splitting off as separate group cursors the
// groups whose score ties with the next group's.
func (m *merger) enterRun(si int32, g item, v float64) {
	for {
		nx, ok := m.afterGroup(si, g)
		if !ok {
			m.push(entry{v: v, kind: kindGroup, s: si, it: g})
			return
		}
		vn := m.score(nx)
		if vn < v {
			m.push(entry{v: v, kind: kindGroup, run: true, s: si, it: g})
			return
		}
		m.push(entry{v: v, kind: kindGroup, s: si, it: g})
		g, v = nx, vn
	}
}

// expandSpan pushes a key's bankrupt groups, from it on, as group cursors.
func (m *merger) expandSpan(si int32, g item) {
	r, rl, _ := ratios(m.up, g.key, m.mk)
	for {
		m.push(entry{v: math.Inf(-1), kind: kindGroup, s: si, it: g})
		nx, ok := m.afterGroup(si, g)
		if !ok || equity(nx.b, r, rl) > 0 {
			return
		}
		g = nx
	}
}

// successor pushes what follows a popped group cursor: the next item of its
// group, or for a run the key's next group.
func (m *merger) successor(e *entry) {
	if e.last {
		return
	}
	lo, hi := oneKey(e.it.key)
	nx, ok := m.seekUp(m.streams[e.s].tree, e.it, true, lo, hi)
	switch {
	case !ok:
	case nx.b == e.it.b:
		m.push(entry{v: e.v, kind: kindGroup, run: e.run, s: e.s, it: nx})
	case e.run:
		m.enterRun(e.s, nx, m.score(nx))
	}
}

// pushSingle puts a position back into the merge as it will rank once
// reduced to qty lots, cost and margin (keyed and scored as link would).
func (m *merger) pushSingle(it item, cost, margin market.Money, qty book.Lots) {
	it.key = float64(cost) / float64(qty)
	it.b = float64(margin) / float64(cost)
	r, rl, g := ratios(m.up, it.key, m.mk)
	m.scoredN++
	m.push(entry{v: score(r, rl, g, it.b), kind: kindSingle, it: it})
}

func (m *merger) score(it item) float64 {
	m.scoredN++
	return m.rk.exact(m.rk.rec(it))
}

// next returns the next position in exact rank order and its score.
func (m *merger) next() (item, float64, bool) {
	for len(m.heap) > 0 {
		e := m.pop()
		switch e.kind {
		case kindGroup:
			m.successor(&e)
			return e.it, e.v, true
		case kindSingle:
			return e.it, e.v, true
		case kindSpan:
			m.expandSpan(e.s, e.it)
		case kindBucket:
			m.open(e.s)
		default:
			m.enterHead(e.s)
		}
	}
	return item{}, 0, false
}

func (m *merger) push(e entry) {
	h := append(m.heap, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	m.heap = h
}

func (m *merger) pop() entry {
	h := m.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h[r].before(&h[l]) {
			c = r
		}
		if !h[c].before(&h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	m.heap = h
	return top
}
