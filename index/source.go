package index

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Sentinel errors; the detail is wrapped around them.
var (
	ErrSpec   = errors.New("index: bad source spec")
	ErrSim    = errors.New("index: bad sim config")
	ErrReplay = errors.New("index: bad replay data")
	ErrFeed   = errors.New("index: bad feed message")
)

// Tick is one index price, due at Due.
type Tick struct {
	Due    time.Time
	Symbol string
	Price  decimal.Decimal
	// TimeMs is a replayed tick's recorded time (0 for the other sources).
	TimeMs int64
}

// Source yields ticks in due order. ok is false when nothing (more) is
// scheduled: always for Idle, at the end for a replay. After an error the
// source is done.
type Source interface {
	Next() (t Tick, ok bool, err error)
}

// Idle is the source of the manual and nats kinds: prices arrive from the
// admin subject or the feeder's subscription, never on a schedule.
type Idle struct{}

func (Idle) Next() (Tick, bool, error) { return Tick{}, false, nil }

// Kind is the kind of source chosen by --index.
type Kind uint8

const (
	KindSim Kind = iota
	KindManual
	KindReplay
	KindNATS
)

func (k Kind) String() string {
	switch k {
	case KindSim:
		return "sim"
	case KindManual:
		return "manual"
	case KindReplay:
		return "replay"
	case KindNATS:
		return "nats"
	}
	return "invalid"
}

// Spec is a parsed --index value: Arg is the file of replay and the subject
// of nats.
type Spec struct {
	Kind Kind
	Arg  string
}

// ParseSpec parses "sim" (also ""), "manual", "replay:FILE" or
// "nats:SUBJECT".
func ParseSpec(s string) (Spec, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	switch {
	case (kind == "sim" || kind == "") && !hasArg:
		return Spec{Kind: KindSim}, nil
	case kind == "manual" && !hasArg:
		return Spec{Kind: KindManual}, nil
	case kind == "replay" && arg != "":
		return Spec{Kind: KindReplay, Arg: arg}, nil
	case kind == "nats" && validSubject(arg):
		return Spec{Kind: KindNATS, Arg: arg}, nil
	}
	return Spec{}, fmt.Errorf("%w: %q: want sim, manual, replay:FILE or nats:SUBJECT", ErrSpec, s)
}

// validSubject accepts a NATS subject to subscribe to: non-empty tokens
// without whitespace, '*' and '>' only as whole tokens, '>' only last.
func validSubject(s string) bool {
	if s == "" {
		return false
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		if t == "" || strings.ContainsAny(t, " \t\r\n") {
			return false
		}
		if strings.ContainsAny(t, "*>") && t != "*" && t != ">" || t == ">" && i != len(toks)-1 {
			return false
		}
	}
	return true
}
