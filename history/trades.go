package history

import "github.com/perpx/perpx/book"

// Trade is one public trade.
type Trade struct {
	TimeMs    int64
	Price     book.Ticks
	Qty       book.Lots
	TakerSide book.Side
	Seq       uint64
}

// Trades keeps the newest trades in a ring.
type Trades struct {
	buf  []Trade
	next int // where the next trade goes
	n    int // trades held
}

// NewTrades returns a ring of capacity n (at least 1).
func NewTrades(n int) *Trades { return &Trades{buf: make([]Trade, max(n, 1))} }

// Add records t, dropping the oldest when full.
func (r *Trades) Add(t Trade) {
	r.buf[r.next] = t
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
}

// Recent appends the newest limit trades to dst, oldest first.
func (r *Trades) Recent(limit int, dst []Trade) []Trade {
	k := min(max(limit, 0), r.n)
	for i := k; i > 0; i-- {
		dst = append(dst, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return dst
}
