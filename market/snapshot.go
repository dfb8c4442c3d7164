package market

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/perpx/perpx/book"
)

// A mark snapshot, version 1. Integers are little-endian:
//
//	"PXMK", version byte 1
//	symbol name                        uvarint length, bytes
//	funding on                         byte 0 or 1
//	funding interval                   int64 ms
//	last input, next funding time      int64 ms
//	premium in force                   int64
//	Σ premium × ms, Σ ms               int64
//	last update: index, mark, funding rate   int64
//	             due                   byte 0 or 1
//	             due rate, due time    int64
//
// The symbol's name, funding switch and interval are there to refuse a
// snapshot of another symbol or funding schedule (the state's times and
// sums mean nothing under another); the rest of the config is the caller's.
// The last update's premium and next funding time are always the state's,
// so they are not stored twice. Impact prices and the funding basis are
// not state: an input brings the impact prices, and the basis is computed
// from the rate and the time left.
const (
	markMagic   = "PXMK"
	markVersion = 1
	markFixed   = 1 + 8 + 8 + 8 + 8 + 8 + 8 + 3*8 + 1 + 2*8 // after the name
)

// AppendSnapshot appends the state's snapshot to dst (see DecodeMarkSnapshot).
func (m *MarkState) AppendSnapshot(dst []byte) []byte {
	s, u := m.sym, &m.last
	dst = append(dst, markMagic...)
	dst = append(dst, markVersion)
	dst = binary.AppendUvarint(dst, uint64(len(s.Name)))
	dst = append(dst, s.Name...)
	dst = append(dst, bit(s.Funding))
	for _, v := range [...]int64{s.FundingIntervalMs, m.lastMs, m.nextMs, int64(m.premium), m.premSum, m.premMs,
		int64(u.Index), int64(u.Mark), int64(u.FundingRate)} {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
	}
	dst = append(dst, bit(u.Due))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(u.DueRate))
	return binary.LittleEndian.AppendUint64(dst, uint64(u.DueMs))
}

func bit(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// DecodeMarkSnapshot decodes a snapshot written by AppendSnapshot at the
// start of p for sym and returns the state and the rest of p. It refuses
// (ErrSnapshot) a snapshot of another symbol, funding switch or interval,
// and any state Update could not have left: a decoded state goes on exactly
// as the one it was taken of, and a damaged one never makes Update misbehave.
func DecodeMarkSnapshot(sym *Symbol, p []byte) (*MarkState, []byte, error) {
	if sym == nil {
		return nil, nil, markErr("no symbol")
	}
	if len(p) < len(markMagic)+1 || string(p[:len(markMagic)]) != markMagic {
		return nil, nil, markErr("not a mark snapshot")
	}
	if v := p[len(markMagic)]; v != markVersion {
		return nil, nil, markErr("version %d, want %d", v, markVersion)
	}
	p = p[len(markMagic)+1:]
	n, k := binary.Uvarint(p)
	switch {
	case k <= 0 || k > 1 && p[k-1] == 0: // a longer form than needed would be a second encoding
		return nil, nil, markErr("bad name length")
	case n > uint64(len(p)-k):
		return nil, nil, markErr("truncated name")
	case string(p[k:k+int(n)]) != sym.Name:
		return nil, nil, markErr("snapshot of %q, symbol %s", p[k:k+int(n)], sym.Name)
	}
	p = p[k+int(n):]
	if len(p) < markFixed {
		return nil, nil, markErr("truncated")
	}
	next := func() int64 {
		v := int64(binary.LittleEndian.Uint64(p))
		p = p[8:]
		return v
	}
	funding := p[0]
	p = p[1:]
	if iv := next(); funding > 1 || (funding == 1) != sym.Funding || iv != sym.FundingIntervalMs {
		return nil, nil, markErr("funding %d every %d ms, symbol %s: %v every %d ms", funding, iv, sym.Name, sym.Funding, sym.FundingIntervalMs)
	}
	m := &MarkState{sym: sym, lastMs: next(), nextMs: next(), premium: Rate(next()), premSum: next(), premMs: next()}
	m.last = MarkUpdate{Index: book.Ticks(next()), Mark: book.Ticks(next()), Premium: m.premium,
		FundingRate: Rate(next()), NextFundingMs: m.nextMs}
	due := p[0]
	p = p[1:]
	m.last.Due, m.last.DueRate, m.last.DueMs = due == 1, Rate(next()), next()
	if due > 1 {
		return nil, nil, markErr("due %d", due)
	}
	if err := m.check(); err != nil {
		return nil, nil, err
	}
	return m, p, nil
}

// check verifies what NewMarkState and Update keep true of the state and
// the later inputs rely on: the next funding time follows the last input,
// the accumulated premium covers no more than the interval so far at no
// more than ±100 %, the last update is in range (its mark within the
// symbol's prices, its rates within ±100 %) and says nothing of an input
// or funding that did not happen.
func (m *MarkState) check() error {
	s, u := m.sym, &m.last
	iv := s.FundingIntervalMs
	switch {
	case iv <= 0:
		return markErr("funding interval %d ms", iv)
	case m.lastMs >= m.nextMs || m.nextMs != s.nextFunding(m.lastMs):
		return markErr("last input at %d, next funding at %d", m.lastMs, m.nextMs)
	case u.NextFundingMs != m.nextMs || u.Premium != m.premium:
		return markErr("last update %+v, premium %d", *u, m.premium)
	case !s.Funding || u.Index == 0:
		// Funding off, or no input yet: no premium, rate or payment.
		if m.premium != 0 || m.premSum != 0 || m.premMs != 0 || u.FundingRate != 0 || u.Due || u.DueRate != 0 || u.DueMs != 0 {
			return markErr("premium %d, Σ %d over %d ms, last update %+v without funding or input", m.premium, m.premSum, m.premMs, *u)
		}
	}
	switch {
	case u.Index < 0 || u.Index > s.MaxPrice, u.Index == 0 && u.Mark != 0,
		u.Index != 0 && (u.Mark < 1 || u.Mark > s.MaxPrice), !s.Funding && u.Mark != u.Index:
		return markErr("index %d, mark %d", u.Index, u.Mark)
	case outOfUnit(m.premium) || outOfUnit(u.FundingRate) || outOfUnit(u.DueRate):
		return markErr("premium %d, funding rate %d, due rate %d", m.premium, u.FundingRate, u.DueRate)
	case m.premMs < 0 || m.premMs > m.lastMs-(m.nextMs-iv) || m.premMs > math.MaxInt64/RateScale ||
		m.premSum < -RateScale*m.premMs || m.premSum > RateScale*m.premMs:
		return markErr("Σ premium %d over %d ms", m.premSum, m.premMs)
	case u.Due && (u.DueMs > m.lastMs || u.DueMs%iv != 0), !u.Due && (u.DueRate != 0 || u.DueMs != 0):
		return markErr("due %v at %d (rate %d), last input at %d", u.Due, u.DueMs, u.DueRate, m.lastMs)
	}
	return nil
}

// outOfUnit reports whether r is outside ±100 %.
func outOfUnit(r Rate) bool { return r < -RateScale || r > RateScale }

func markErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSnapshot}, args...)...)
}
