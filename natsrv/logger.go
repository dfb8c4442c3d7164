package natsrv

import (
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/perpx/perpx/internal/ratelog"
)

// logEvery is the most often one kind of server log line is written.
const logEvery = 10 * time.Second

// limitedLogger passes the server's log lines to l, at most one line per
// every for each level and format: nats-server writes a line per
// permissions violation, slow consumer or failed login, which a client can
// repeat thousands of times a second. A line standing for several
// occurrences says how many. Fatalf is passed through.
type limitedLogger struct {
	l     server.Logger
	every time.Duration

	mu    sync.Mutex
	lines map[lineKey]*ratelog.Limiter // bounded: the server's formats
}

type lineKey struct {
	level  byte
	format string
}

// maxLines bounds the kinds of lines tracked; the rest share one limiter
// per level.
const maxLines = 256

// clientPrefix is what nats-server puts before a client's own format: its
// address and connection id, then its name and application name quoted
// ("127.0.0.1:4321 - cid:7 - \"v1.2:go:alice\" - "). It differs for every
// connection, so it is not part of a line's kind.
var clientPrefix = regexp.MustCompile(`^.*? - (?:[cwmrgl]id(?:_ws)?):\d+(?: - "(?:[^"\\]|\\.)*"){0,2} - `)

// kind is the line's key: its level and format without the client prefix.
func kind(level byte, format string) lineKey {
	if loc := clientPrefix.FindStringIndex(format); loc != nil {
		format = format[loc[1]:]
	}
	return lineKey{level, format}
}

func limitLogger(l server.Logger, every time.Duration) *limitedLogger {
	return &limitedLogger{l: l, every: every, lines: map[lineKey]*ratelog.Limiter{}}
}

func (q *limitedLogger) log(level byte, format string, v []any, write func(string, ...any)) {
	k := kind(level, format)
	q.mu.Lock()
	lim := q.lines[k]
	if lim == nil && len(q.lines) >= maxLines {
		k.format = ""
		lim = q.lines[k]
	}
	if lim == nil {
		lim = ratelog.New(q.every, func(n int64, args []any) {
			// The latest occurrence's own format is its first argument.
			f, args := args[0].(string), args[1:]
			if n == 1 {
				write(f, args...)
				return
			}
			write(f+" (%d like it in the last %v)", append(args, n, q.every)...)
		})
		q.lines[k] = lim
	}
	q.mu.Unlock()
	lim.Event(append([]any{format}, v...)...)
}

func (q *limitedLogger) Noticef(format string, v ...any) { q.log('N', format, v, q.l.Noticef) }
func (q *limitedLogger) Warnf(format string, v ...any)   { q.log('W', format, v, q.l.Warnf) }
func (q *limitedLogger) Errorf(format string, v ...any)  { q.log('E', format, v, q.l.Errorf) }
func (q *limitedLogger) Debugf(format string, v ...any)  { q.log('D', format, v, q.l.Debugf) }
func (q *limitedLogger) Tracef(format string, v ...any)  { q.log('T', format, v, q.l.Tracef) }
func (q *limitedLogger) Fatalf(format string, v ...any)  { q.l.Fatalf(format, v...) }

var _ server.Logger = (*limitedLogger)(nil)
