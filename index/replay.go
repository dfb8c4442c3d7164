package index

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/perpx/perpx/wire"
)

// Replay replays a recorded CSV of time_ms,symbol,price rows. The first row
// is due at start; a row recorded d later is due d/speed after start. Rows
// must be in time order (equal times keep file order). An optional header
// "time_ms,symbol,price", blank lines and lines starting with '#' are
// skipped. The input is read lazily, so a bad row is reported, with its
// line number, when the replay reaches it.
type Replay struct {
	r       *csv.Reader
	start   time.Time
	speed   float64
	t0      int64 // time of the first row
	last    int64 // time of the previous row
	rows    int   // records read, header included
	rowsOut int   // ticks returned
	err     error // sticky: a replay stops at its first error
	// first is the first row, read by NewReplay (its time starts Clock).
	first *Tick
}

// NewReplay replays r from start at speed× (1 = as recorded).
func NewReplay(r io.Reader, start time.Time, speed float64) (*Replay, error) {
	if !(speed > 0) || math.IsInf(speed, 0) {
		return nil, fmt.Errorf("%w: speed %v must be positive and finite", ErrReplay, speed)
	}
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 3
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	p := &Replay{r: cr, start: start, speed: speed}
	// The first row is read now, for Clock; a bad one is reported by Next,
	// as any row's is.
	if t, ok, err := p.next(); err != nil {
		p.err = err
	} else if ok {
		p.first = &t
	}
	return p, nil
}

// First is the first row's recorded time (Unix ms); ok is false for an
// empty replay or a bad first row.
func (p *Replay) First() (ms int64, ok bool) {
	if p.first == nil {
		return 0, false
	}
	return p.first.TimeMs, true
}

// Next returns the next row as a tick; ok is false at the end of the input
// or after an error.
func (p *Replay) Next() (Tick, bool, error) {
	if t := p.first; t != nil {
		p.first = nil
		return *t, true, nil
	}
	if p.err != nil {
		return Tick{}, false, p.err
	}
	t, ok, err := p.next()
	if err != nil {
		p.err = err
	}
	return t, ok, err
}

func (p *Replay) next() (Tick, bool, error) {
	for {
		rec, err := p.r.Read()
		if err == io.EOF {
			return Tick{}, false, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return Tick{}, false, fmt.Errorf("%w: line %d: %v", ErrReplay, pe.Line, pe.Err)
			}
			return Tick{}, false, fmt.Errorf("%w: %v", ErrReplay, err)
		}
		line, _ := p.r.FieldPos(0)
		p.rows++
		if p.rows == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "time_ms") {
			continue // header
		}
		return p.row(line, rec)
	}
}

func (p *Replay) row(line int, rec []string) (Tick, bool, error) {
	bad := func(format string, args ...any) (Tick, bool, error) {
		return Tick{}, false, fmt.Errorf("%w: line %d: %s", ErrReplay, line, fmt.Sprintf(format, args...))
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(rec[0]), 10, 64)
	if err != nil || ms < 0 {
		return bad("time_ms %.30q is not a non-negative integer", rec[0])
	}
	sym := strings.TrimSpace(rec[1])
	if !wire.ValidToken(sym) {
		return bad("symbol %.70q must be 1-%d characters of [A-Za-z0-9_-]", rec[1], wire.MaxTokenLen)
	}
	price, ok := wire.ParseDecimal(strings.TrimSpace(rec[2]))
	if !ok || price.Sign() <= 0 {
		return bad("price %.40q is not a positive plain decimal", rec[2])
	}
	if p.rowsOut == 0 {
		p.t0 = ms
	} else if ms < p.last {
		return bad("time_ms %d goes back before %d", ms, p.last)
	}
	p.last = ms
	p.rowsOut++
	off := float64(ms-p.t0) * float64(time.Millisecond) / p.speed
	if off > math.MaxInt64/2 {
		return bad("time_ms %d is too far from the first row at speed %v", ms, p.speed)
	}
	return Tick{Due: p.start.Add(time.Duration(off)), Symbol: sym, Price: price, TimeMs: ms}, true, nil
}
