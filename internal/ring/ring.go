// Package ring owns the bounded "keep the newest n" buffer the exchange's
// histories share (the fund's events, a symbol's recent trades, an
// account's closed orders and fills). It grows on use up to its capacity,
// so a history nobody fills costs nothing.
package ring

// chunkShift sets the chunk length (1<<chunkShift values). Past the first
// chunk (which grows like a slice) the ring grows a chunk at a time: no
// copy of what it holds, no slack beyond the last chunk, so filling a ring
// allocates its values about once instead of twice or more (a liquidation
// cascade fills the fund's history on a fresh exchange). Chunks are short
// because the first one's growth by doubling is garbage: with 256-value
// chunks an account's closed orders (≈ 200 B each) allocated twice what
// they held, 40 % of a replay's allocations (BenchmarkReplay).
const (
	chunkShift = 5
	chunkLen   = 1 << chunkShift
	chunkMask  = chunkLen - 1
)

// Ring keeps the newest Cap values pushed, oldest first. The zero value
// holds nothing and drops everything; set Cap (or use New) first.
type Ring[T any] struct {
	chunks [][]T // value i is chunks[i>>chunkShift][i&chunkMask]
	n      int   // values held
	start  int   // index of the oldest value once full
	cap    int
}

// New returns an empty ring keeping the newest n values (at least 1).
func New[T any](n int) Ring[T] { return Ring[T]{cap: max(n, 1)} }

// Push records v, dropping the oldest value when full.
func (r *Ring[T]) Push(v T) { r.put(v) }

// Add makes room for a new newest value, dropping the oldest when full,
// and returns it zeroed for the caller to fill in place (a large value is
// then not copied twice); nil when the ring keeps nothing. Whether Add
// drops a value, and which, Len, Cap and At(0) tell beforehand.
func (r *Ring[T]) Add() *T {
	var zero T
	return r.put(zero)
}

// put records v as the newest value and returns its slot (nil when the
// ring keeps nothing).
func (r *Ring[T]) put(v T) *T {
	if r.n < r.cap {
		c := r.n >> chunkShift
		if c == len(r.chunks) {
			size := 0 // the first chunk grows by append: small rings stay small
			if c > 0 {
				size = min(chunkLen, r.cap-r.n)
			}
			r.chunks = append(r.chunks, make([]T, 0, size))
		}
		r.chunks[c] = append(r.chunks[c], v)
		r.n++
		return r.slot(r.n - 1)
	}
	if r.cap == 0 {
		return nil
	}
	p := r.slot(r.start)
	*p = v
	r.start = (r.start + 1) % r.cap
	return p
}

func (r *Ring[T]) slot(i int) *T { return &r.chunks[i>>chunkShift][i&chunkMask] }

// Len is the number of values held.
func (r *Ring[T]) Len() int { return r.n }

// Cap is the most values the ring keeps.
func (r *Ring[T]) Cap() int { return r.cap }

// At returns the i-th value held, oldest first (0 ≤ i < Len).
func (r *Ring[T]) At(i int) *T { return r.slot((r.start + i) % r.n) }

// Newest appends the newest n values (all when n exceeds Len), oldest
// first, to dst.
func (r *Ring[T]) Newest(n int, dst []T) []T {
	k := r.n
	for i := k - min(max(n, 0), k); i < k; i++ {
		dst = append(dst, *r.At(i))
	}
	return dst
}
