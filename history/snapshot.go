package history

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/market"
)

// ErrSnapshot wraps every snapshot decoding error.
var ErrSnapshot = errors.New("history: bad snapshot")

// AppendSnapshot appends the series' minutes (not its Retention, which is
// configuration).
func (s *Series) AppendSnapshot(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s.mins)))
	for _, c := range s.mins {
		dst = binary.AppendVarint(dst, c.OpenMs)
		for _, v := range [...]int64{int64(c.Open), int64(c.High), int64(c.Low), int64(c.Close), int64(c.Volume), int64(c.Quote), c.Trades} {
			dst = binary.AppendVarint(dst, v)
		}
	}
	return dst
}

// DecodeSnapshot replaces the series' minutes with those at the start of
// p and returns the rest of p.
func (s *Series) DecodeSnapshot(p []byte) ([]byte, error) {
	d := decoder{p: p}
	n := d.count(8)
	mins := make([]Candle, 0, n)
	for range n {
		c := Candle{OpenMs: d.varint()}
		c.Open, c.High, c.Low, c.Close = book.Ticks(d.varint()), book.Ticks(d.varint()), book.Ticks(d.varint()), book.Ticks(d.varint())
		c.Volume, c.Quote, c.Trades = book.Lots(d.varint()), market.Money(d.varint()), d.varint()
		if d.err == nil && (c.OpenMs%int64(Minute) != 0 || len(mins) > 0 && c.OpenMs <= mins[len(mins)-1].OpenMs ||
			c.Low <= 0 || c.Low > c.High || c.Open < c.Low || c.Open > c.High || c.Close < c.Low || c.Close > c.High) {
			d.err = fmt.Errorf("%w: minute %d", ErrSnapshot, len(mins))
		}
		mins = append(mins, c)
	}
	if d.err != nil {
		return nil, d.err
	}
	s.mins = mins
	return d.p, nil
}

// AppendSnapshot appends the ring's trades, oldest first, and its capacity.
func (r *Trades) AppendSnapshot(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(r.r.Cap()))
	ts := r.Recent(r.r.Len(), nil)
	dst = binary.AppendUvarint(dst, uint64(len(ts)))
	for _, t := range ts {
		dst = binary.AppendVarint(dst, t.TimeMs)
		dst = binary.AppendVarint(dst, int64(t.Price))
		dst = binary.AppendVarint(dst, int64(t.Qty))
		dst = append(dst, byte(t.TakerSide))
		dst = binary.AppendUvarint(dst, t.Seq)
	}
	return dst
}

// DecodeTradesSnapshot decodes a ring written by AppendSnapshot at the
// start of p and returns it and the rest of p.
func DecodeTradesSnapshot(p []byte) (*Trades, []byte, error) {
	d := decoder{p: p}
	capacity := d.uvarint()
	n := d.count(5)
	if d.err == nil && (capacity == 0 || capacity > 1<<20 || uint64(n) > capacity) {
		d.err = fmt.Errorf("%w: %d trades in a ring of %d", ErrSnapshot, n, capacity)
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	r := NewTrades(int(capacity))
	for range n {
		t := Trade{TimeMs: d.varint(), Price: book.Ticks(d.varint()), Qty: book.Lots(d.varint())}
		t.TakerSide, t.Seq = book.Side(d.byte()), d.uvarint()
		r.Add(t)
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return r, d.p, nil
}

type decoder struct {
	p   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrSnapshot, what)
	}
	d.p = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.p) == 0 {
		d.fail("byte")
		return 0
	}
	b := d.p[0]
	d.p = d.p[1:]
	return b
}

// count reads a count of items at least min bytes each, refusing one the
// rest of the input cannot hold.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.p)/min) {
		d.fail("count")
		return 0
	}
	return int(n)
}
