// Package ratelog bounds the log lines one kind of event can write: a
// Limiter writes the first occurrence at once and then at most one line per
// interval, which stands for every occurrence since the previous line (its
// count). Use one Limiter per kind of line a client can trigger (a refused
// request, a permissions violation), next to a Prometheus counter of the
// same events: the counter has every event, the log a bounded sample.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Limiter aggregates the occurrences of one kind of event into at most one
// line per interval. It is safe for concurrent use.
type Limiter struct {
	every time.Duration
	emit  func(n int64, args []any)

	mu      sync.Mutex
	until   time.Time   // no line before then
	pending int64       // occurrences not written yet
	last    []any       // the latest of them
	timer   *time.Timer // writes pending at until
}

// New returns a Limiter that writes with emit: n is the number of
// occurrences the line stands for (1 for the first), args those of the
// latest. emit runs without the Limiter's lock, from Event's or a timer's
// goroutine.
func New(every time.Duration, emit func(n int64, args []any)) *Limiter {
	return &Limiter{every: every, emit: emit}
}

// Slog returns a Limiter writing msg at level to log, with the latest
// occurrence's args and "count" (occurrences since the previous line).
func Slog(log *slog.Logger, level slog.Level, msg string, every time.Duration) *Limiter {
	return New(every, func(n int64, args []any) {
		log.Log(context.Background(), level, msg, append(args, "count", n, "interval", every)...)
	})
}

// Event records one occurrence with its log attributes: it is written at
// once if no line was written in the last interval, else counted into the
// line written when the interval ends.
func (l *Limiter) Event(args ...any) {
	now := time.Now()
	l.mu.Lock()
	if l.pending == 0 && !now.Before(l.until) {
		l.until = now.Add(l.every)
		l.mu.Unlock()
		l.emit(1, args)
		return
	}
	l.pending++
	l.last = args
	if l.timer == nil {
		l.timer = time.AfterFunc(l.until.Sub(now), l.tick)
	}
	l.mu.Unlock()
}

func (l *Limiter) tick() {
	l.mu.Lock()
	n, args := l.pending, l.last
	l.pending, l.last, l.timer = 0, nil, nil
	if n > 0 {
		l.until = time.Now().Add(l.every)
	}
	l.mu.Unlock()
	if n > 0 {
		l.emit(n, args)
	}
}

// Flush writes the occurrences not written yet now (at shutdown).
func (l *Limiter) Flush() {
	l.mu.Lock()
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	l.tick()
}
