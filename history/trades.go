package history

import (
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/internal/ring"
)

// Trade is one public trade.
type Trade struct {
	TimeMs    int64
	Price     book.Ticks
	Qty       book.Lots
	TakerSide book.Side
	Seq       uint64
}

// Trades keeps the newest trades in a ring.
type Trades struct{ r ring.Ring[Trade] }

// NewTrades returns a ring of capacity n (at least 1).
func NewTrades(n int) *Trades { return &Trades{r: ring.New[Trade](n)} }

// Add records t, dropping the oldest when full.
func (r *Trades) Add(t Trade) { r.r.Push(t) }

// Recent appends the newest limit trades to dst, oldest first.
func (r *Trades) Recent(limit int, dst []Trade) []Trade { return r.r.Newest(limit, dst) }

// Resized returns r with capacity n, keeping its newest trades (r itself
// when n is its capacity already).
func (r *Trades) Resized(n int) *Trades {
	if max(n, 1) == r.r.Cap() {
		return r
	}
	t := NewTrades(n)
	for _, tr := range r.Recent(n, nil) {
		t.Add(tr)
	}
	return t
}
