package actors

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
	"github.com/perpx/perpx/wire"
)

// A halted exchange's way back (admin.resume). A book that panicked is
// frozen as the panic left it, and trading halts (halt.go). While it is
// out of service its guard refuses every request and holds what it cannot
// refuse (a liquidation's coverage quote, an unsubscribe, a cancel nobody
// waits on): each is answered or handled, never lost. An operator who found the cause asks
// for the book back; it returns only if its frozen state is sound (its
// own checks) and agrees order by order with what the accounts hold on it,
// and the exchange's money and open interest balance (the audit less the
// halt itself). A panic that left a half-made match behind fails one of
// those and the book stays out. The resume is journaled where the book
// takes it, so a replay, a follower and a restart resume at the same
// record. Only books: a failed fund, ADL or history actor drops messages
// that move money or rankings (halt.go), which no check could restore.

type (
	// resumeMsg lifts a failed book's guard (journaled: recResume).
	resumeMsg struct{ done func(wire.ResumeReply) }
	// ordersOnMsg asks an account for its open orders on sym (a read).
	ordersOnMsg struct {
		sym   int
		reply func([]restingView)
	}
	// resumeCheckMsg asks a failed book whether it can resume holding the
	// accounts' open orders views (a read).
	resumeCheckMsg struct {
		views []restingView
		reply func(error)
	}
)

func (m *resumeMsg) refuse(e *wire.Error) { m.done(wire.ResumeReply{Reply: wire.Fail(e)}) }

// restingView is an account's open order on a symbol as the account holds
// it: its book must hold the same.
type restingView struct {
	id    book.OrderID
	acct  book.AccountID
	side  book.Side
	price book.Ticks
	open  book.Lots
	cond  bool // an untriggered conditional order: in the trigger set, not the book
}

// ordersOn lists the account's open orders on symbol sym.
func (a *accountActor) ordersOn(sym int) []restingView {
	var out []restingView
	for _, o := range a.orders.Values() {
		if o.h.idx == sym {
			out = append(out, restingView{id: o.id, acct: a.e.id, side: o.side, price: o.price, open: o.qty - o.filled,
				cond: o.cond != nil && !o.cond.fired})
		}
	}
	return out
}

// Resume brings the book named actor (as the audit's failures name it)
// back into service, when its checks pass (above).
func (x *Exchange) Resume(req wire.Resume, done func(wire.ResumeReply)) {
	done = durably(x, done)
	refuse := func(format string, args ...any) {
		done(wire.ResumeReply{Reply: fail(wire.CodeNotResumable, format, args...)})
	}
	var h *symbolHandle
	for _, s := range x.symbols {
		if s.guard.name == req.Actor {
			h = s
		}
	}
	switch {
	case h != nil && !h.guard.failed.Load():
		refuse("%s is in service", req.Actor)
		return
	case h == nil && slices.ContainsFunc(x.failed.all(), func(f wire.Failure) bool { return f.Actor == req.Actor }):
		refuse("%s cannot be resumed: only a book can (a failed account, fund, ADL, history actor or journal may have lost what it was sent)", req.Actor)
		return
	case h == nil:
		refuse("no part named %q is out of service (px.admin.audit lists them under failures)", req.Actor)
		return
	case x.stopped.Load():
		done(wire.ResumeReply{Reply: fail(wire.CodeInternal, "the exchange is stopped")})
		return
	}
	go func() { // quiesce blocks
		x.quiesce()
		audit := make(chan AuditReport, 1)
		x.audit(func(r AuditReport) { audit <- r })
		if r := <-audit; !r.sound() {
			refuse("the audit fails beside the halt (money, open interest or a core's check): %s", r.unsound())
			return
		}
		var pids []*actor.PID
		for _, e := range x.accounts.all() {
			pids = append(pids, e.pid)
		}
		views := make(chan []restingView, 1)
		gather(x, pids, func(_ *actor.PID, r func([]restingView)) any { return &ordersOnMsg{sym: h.idx, reply: r} },
			func(parts [][]restingView) { views <- slices.Concat(parts...) })
		checked := make(chan error, 1)
		x.send(h.pid, &resumeCheckMsg{views: <-views, reply: func(err error) { checked <- err }}, func(e *wire.Error) { checked <- e })
		if err := <-checked; err != nil {
			refuse("%s stays out of service: %v", req.Actor, err)
			return
		}
		// Nothing the checks read changes meanwhile: the frozen book
		// refuses or holds everything until it takes this.
		x.send(h.pid, &resumeMsg{done: done}, func(e *wire.Error) { done(wire.ResumeReply{Reply: wire.Fail(e)}) })
	}()
}

// resumable says why the failed book cannot take the accounts' open
// orders views back into service (nil: it can).
func (s *symbolActor) resumable(views []restingView) error {
	if err := s.book.Check(); err != nil {
		return fmt.Errorf("its book fails its check: %w", err)
	}
	if err := s.trig.Check(); err != nil {
		return fmt.Errorf("its trigger set fails its check: %w", err)
	}
	if n, held := len(views), s.book.Len()+s.trig.Len(); n != held {
		return fmt.Errorf("it holds %d orders, the accounts %d", held, n)
	}
	for _, v := range views {
		if v.cond {
			if t, ok := s.trig.Get(v.id); !ok || t.Account != v.acct {
				return fmt.Errorf("conditional order %d of account %d is not in its trigger set", v.id, v.acct)
			}
			continue
		}
		o, ok := s.book.Order(v.id)
		if !ok || o.Account != v.acct || o.Side != v.side || o.Price != v.price || o.Remaining != v.open {
			return fmt.Errorf("order %d of account %d (%v %d at %d) is not in its book as the account holds it", v.id, v.acct, v.side, v.open, v.price)
		}
	}
	return nil
}

// resume takes the failed book back into service (its guard, on m):
// trading resumes unless another shared part is still out, and what it
// held while out is posted to it again, in the order it came.
func (g *guard) resume(ctx actor.Context, m *resumeMsg) {
	s := g.Actor.(*symbolActor)
	g.failed.Store(false)
	halted := g.x.failed.lift(g.name)
	g.x.log.Warn("actors: a failed book resumed", "actor", g.name, "held", len(s.held), "halted", halted)
	for _, h := range s.held {
		ctx.Send(ctx.Self(), h)
	}
	s.held = nil
	m.done(wire.ResumeReply{Reply: wire.OK(), Actor: g.name, Halted: halted})
}

// inService answers a resume, or its check, that reached the book named
// name in service (another resume came first).
func inService(m any, name string) {
	switch m := m.(type) {
	case *resumeMsg:
		m.done(wire.ResumeReply{Reply: fail(wire.CodeNotResumable, "%s is in service", name)})
	case *resumeCheckMsg:
		m.reply(errors.New("it is in service"))
	}
}

// lift takes who off the failures and reports whether trading stays
// halted by another.
func (f *failures) lift(who string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.IndexFunc(f.list, func(w wire.Failure) bool { return w.Actor == who }); i >= 0 {
		f.list = slices.Delete(f.list, i, i+1)
		f.at = slices.Delete(f.at, i, i+1)
		f.halts = slices.Delete(f.halts, i, i+1)
	}
	for i, h := range f.halts {
		if h {
			r := f.list[i].Reason
			f.halted.Store(&r)
			return true
		}
	}
	f.halted.Store(nil)
	return false
}

// sound is OK but for the halt: what a resume needs of the audit.
func (r *AuditReport) sound() bool {
	c := *r
	c.Halted = false
	return c.evaluate()
}

// unsound names what sound found wrong.
func (r *AuditReport) unsound() string {
	var why []string
	if !r.Conserved() {
		why = append(why, "money not conserved")
	}
	for i := range r.Long {
		if r.Long[i] != r.Short[i] {
			why = append(why, fmt.Sprintf("open interest of symbol %d uneven", i))
		}
	}
	if r.Err != nil {
		why = append(why, r.Err.Error())
	}
	if len(r.Negative) > 0 {
		why = append(why, "negative balances: "+strings.Join(r.Negative, ", "))
	}
	for _, as := range r.Assets {
		if as.Fund < 0 || as.Uncovered != 0 {
			why = append(why, "the "+as.Asset+" fund below zero or a deficit uncovered")
		}
	}
	if len(why) == 0 {
		why = append(why, "a reservation or earmark left over")
	}
	return strings.Join(why, "; ")
}
