package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/wire"
)

// subjectToken turns fuzz input into one subject token the server accepts
// (printable ASCII without '.', '*', '>'), so every request reaches the
// gateway's wildcard subscription and Parse judges the token.
func subjectToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 100; i++ {
		if c := s[i]; c > ' ' && c < 0x7f && c != '.' && c != '*' && c != '>' {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

func stateHash(x Exchange) uint64 {
	ch := make(chan uint64, 1)
	x.StateHash(func(h uint64) { ch <- h })
	return <-ch
}

// FuzzGateway sends random payloads, with random account and symbol
// tokens, to every request subject of a gateway over a fake exchange: no
// panic, every reply a well-formed envelope with ok or a known code, and a
// refused request leaves the exchange's state hash unchanged.
func FuzzGateway(f *testing.F) {
	all := ops(subj)
	for i := range all {
		for _, tok := range []string{"alice", "BTC-PERP", "DOGE-PERP", "al$ce"} {
			f.Add(uint8(i), tok, []byte(`{}`))
		}
	}
	for i, b := range badInputs {
		r, _ := subj.Parse(b.subject)
		for j, o := range all {
			if o.ep == r.Endpoint {
				f.Add(uint8(j), "alice", []byte(b.payload[:min(len(b.payload), 512)]))
			}
		}
		f.Add(uint8(i), "BTC-PERP", []byte(b.payload[:min(len(b.payload), 512)]))
	}
	f.Add(uint8(0), "alice", []byte(`{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"30000.5","qty":"0.010","client_order_id":"c1"}`))
	f.Add(uint8(1), "alice", []byte(`{"symbol":"BTC-PERP","client_order_id":"c1"}`))
	f.Add(uint8(4), "x", []byte(`{"account":"alice","amount":"10000"}`))
	for i, o := range all {
		if o.ep == wire.EpOrderBatch {
			f.Add(uint8(i), "alice", []byte(`{"orders":[{"place":{"symbol":"BTC-PERP","side":"buy","type":"limit","price":"1","qty":"1","client_order_id":"c1"}},{"cancel":{"symbol":"BTC-PERP","client_order_id":"c1"}}]}`))
		}
	}

	e := newEnv(f, Options{})
	f.Fuzz(func(t *testing.T, sel uint8, token string, payload []byte) {
		o := all[int(sel)%len(all)]
		tok := subjectToken(token)
		subject := subj.Build(wire.Route{Endpoint: o.ep, Account: tok, Symbol: tok})
		before := stateHash(e.x)
		msg, err := e.cl.Request(subject, payload, 5*time.Second)
		if err != nil {
			t.Fatalf("%s %q: %v", subject, payload, err)
		}
		var env envelope
		if err := json.Unmarshal(msg.Data, &env); err != nil || env.OK == (env.Error != nil) {
			t.Fatalf("%s %q: malformed reply %q", subject, payload, msg.Data)
		}
		if env.OK {
			return
		}
		if !env.Error.Code.Known() || env.Error.Message == "" {
			t.Fatalf("%s %q: unknown code or no message: %s", subject, payload, msg.Data)
		}
		if after := stateHash(e.x); after != before {
			t.Fatalf("%s %q: refused with %s but the state changed", subject, payload, env.Error.Code)
		}
	})
}
