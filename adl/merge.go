package adl

import (
	"math"

	"github.com/google/btree"
	"github.com/perpx/perpx/book"
)

// The merge: exact ranking at the current mark without re-ranking.
//
// Within one bucket, cut the entry-key line at the turning points of
// score(·, bucketLo) (closed forms below). On each piece that function is
// monotone in r, and r is monotone in the key, so a stream that walks the
// piece in the direction of falling score(·, bucketLo) has, at its head, an
// upper bound for every item still ahead of it. A heap holds each stream's
// head (by bound) and the items already scored (by exact score); popping an
// exact item means no unseen item can beat it, so items come out in exact
// order (score desc, account asc) having looked at the winners plus the
// items whose bound came close. Turning points (long r_m, short r_m and r*):
//
//	long:  r_m = sqrt(1-b) - 1          key split mk/sqrt(1-b)
//	short: r_m = 1 - sqrt(1+b)          key split mk/sqrt(1+b)
//	       r*  = sqrt(b²+b) - b         key split mk/(1-r*)
//
// Long keys [0, mk/sqrt(1-b)) walk up (r falls from its top, score falls);
// keys above walk down (r rises from the most negative, loss score falls).
// Short keys: [0, split_m) up, [split_m, split*) down, [split*, ∞) up.

// stream walks one piece [lo, hi) of one bucket's tree.
type stream struct {
	tree     *btree.BTreeG[item]
	lo, hi   float64
	bLo      float64
	desc     bool
	bankrupt bool
	cur      item
}

// entry is a heap element: a stream head (v is its bound) or a scored item.
type entry struct {
	v     float64
	exact bool
	s     int32
	it    item
}

// before orders the heap: higher value first; on equal values an unscored
// head first (it may hide an equal score with a lower account), then
// account ascending among scored items.
func (a entry) before(b entry) bool {
	if a.v != b.v {
		return a.v > b.v
	}
	if a.exact != b.exact {
		return !a.exact
	}
	if a.exact {
		return a.it.acct < b.it.acct
	}
	return a.s < b.s
}

// merger is the reusable state of one merge; a Ranking owns one.
type merger struct {
	rk      *Ranking
	long    bool
	mk      float64
	scoredN int // positions scored, for benchmarks
	streams []stream
	heap    []entry

	// seek state, read by visit (a method value made once, so tree walks
	// do not allocate a closure each time).
	visitFn  btree.ItemIteratorG[item]
	skip     bool
	skipItem item
	lo, hi   float64
	found    bool
	out      item
}

func (m *merger) init(rk *Ranking) {
	m.rk = rk
	m.visitFn = m.visit
}

// begin starts a merge over one side at the current mark.
func (m *merger) begin(side book.Side) {
	m.long = side == Long
	m.mk = m.rk.markValue()
	m.streams = m.streams[:0]
	m.heap = m.heap[:0]
	sb := &m.rk.sides[sideIndex(side)]
	for i, t := range sb.trees {
		if t.Len() == 0 {
			continue
		}
		ps, n := pieces(m.long, bucketLo[i], bucketHi(i), m.mk)
		for _, p := range ps[:n] {
			m.add(t, bucketLo[i], p)
		}
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
func pieces(long bool, bLo, bHi, mk float64) (ps [4]piece, n int) {
	inf := math.Inf(1)
	// the loss beyond which every position of the bucket is bankrupt
	rBust := -bHi - float64(bHi*bankruptMargin)
	if long {
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

// add opens a stream and pushes its first item, if any.
func (m *merger) add(t *btree.BTreeG[item], bLo float64, p piece) {
	if !(p.lo < p.hi) {
		return
	}
	s := stream{tree: t, lo: p.lo, hi: p.hi, bLo: bLo, desc: p.desc, bankrupt: p.bankrupt}
	m.skip, m.lo, m.hi, m.found = false, p.lo, p.hi, false
	if p.desc {
		t.DescendLessOrEqual(item{key: math.Nextafter(p.hi, math.Inf(-1)), acct: math.MaxUint64}, m.visitFn)
	} else {
		t.AscendGreaterOrEqual(item{key: p.lo}, m.visitFn)
	}
	if !m.found {
		return
	}
	s.cur = m.out
	m.streams = append(m.streams, s)
	m.push(entry{v: m.bound(&s, s.cur), s: int32(len(m.streams) - 1), it: s.cur})
}

// advance moves stream si past its current item; false when it is done.
func (m *merger) advance(si int32) bool {
	s := &m.streams[si]
	m.skip, m.skipItem, m.lo, m.hi, m.found = true, s.cur, s.lo, s.hi, false
	if s.desc {
		s.tree.DescendLessOrEqual(s.cur, m.visitFn)
	} else {
		s.tree.AscendGreaterOrEqual(s.cur, m.visitFn)
	}
	if !m.found {
		return false
	}
	s.cur = m.out
	return true
}

// visit takes the first item in [lo, hi), skipping the stream's current one.
func (m *merger) visit(it item) bool {
	if m.skip {
		m.skip = false
		if it == m.skipItem {
			return true
		}
	}
	if it.key < m.lo || it.key >= m.hi {
		return false
	}
	m.found, m.out = true, it
	return false
}

func (m *merger) bound(s *stream, it item) float64 {
	if s.bankrupt {
		return math.Inf(-1)
	}
	r, g := ratios(m.long, it.key, m.mk)
	return bound(r, g, s.bLo)
}

// next returns the next position in exact rank order and its score.
func (m *merger) next() (item, float64, bool) {
	for len(m.heap) > 0 {
		e := m.pop()
		if e.exact {
			return e.it, e.v, true
		}
		m.push(entry{v: m.rk.exact(e.it.idx), exact: true, it: e.it})
		m.scoredN++
		if m.advance(e.s) {
			s := &m.streams[e.s]
			m.push(entry{v: m.bound(s, s.cur), s: e.s, it: s.cur})
		}
	}
	return item{}, 0, false
}

func (m *merger) push(e entry) {
	h := append(m.heap, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
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
		if r := l + 1; r < n && h[r].before(h[l]) {
			c = r
		}
		if !h[c].before(h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	m.heap = h
	return top
}
