// Package ring owns the bounded "keep the newest n" buffer the exchange's
// histories share (the fund's events, a symbol's recent trades, an
// account's closed orders and fills). It grows on use up to its capacity,
// so a history nobody fills costs nothing.
package ring

// Ring keeps the newest Cap values pushed, oldest first. The zero value
// holds nothing and drops everything; set Cap (or use New) first.
type Ring[T any] struct {
	buf   []T
	start int // index of the oldest value once full
	cap   int
}

// New returns an empty ring keeping the newest n values (at least 1).
func New[T any](n int) Ring[T] { return Ring[T]{cap: max(n, 1)} }

// Push records v, dropping the oldest value when full.
func (r *Ring[T]) Push(v T) {
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, v)
		return
	}
	if r.cap == 0 {
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % r.cap
}

// Len is the number of values held.
func (r *Ring[T]) Len() int { return len(r.buf) }

// Cap is the most values the ring keeps.
func (r *Ring[T]) Cap() int { return r.cap }

// At returns the i-th value held, oldest first (0 ≤ i < Len).
func (r *Ring[T]) At(i int) *T { return &r.buf[(r.start+i)%len(r.buf)] }

// Newest appends the newest n values (all when n exceeds Len), oldest
// first, to dst.
func (r *Ring[T]) Newest(n int, dst []T) []T {
	k := len(r.buf)
	for i := k - min(max(n, 0), k); i < k; i++ {
		dst = append(dst, *r.At(i))
	}
	return dst
}
