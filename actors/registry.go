package actors

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/perpx/perpx/book"
)

// accountEntry is one account in the registry: its name, interned id and
// actor. failed is set (once) when the actor panicked.
type accountEntry struct {
	name   string
	id     book.AccountID
	pid    *actor.PID
	mb     *mailbox // pid's (deliver)
	failed atomic.Bool
}

// registry interns account names to book.AccountIDs (1, 2, ...) and spawns
// each account's actor on first use. Lookups of known accounts are
// lock-free (sync.Map); creation takes the mutex. Callers on a hot path
// resolve an account once (Exchange.Account) instead of by name per order.
type registry struct {
	byName sync.Map // string -> *accountEntry
	mu     sync.Mutex
	list   []*accountEntry // id-1 -> entry
	super  *accountSupervisor
}

// accountPrefix names account actors in the process registry.
const accountPrefix = "acct-"

func (r *registry) get(x *Exchange, name string) *accountEntry {
	if e, ok := r.byName.Load(name); ok {
		return e.(*accountEntry)
	}
	if d := x.rec; d != nil && !d.replaying.Load() {
		// A snapshot has every account journaled before it (Snapshot).
		d.gate.RLock()
		defer d.gate.RUnlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byName.Load(name); ok {
		return e.(*accountEntry)
	}
	if r.super == nil {
		r.super = &accountSupervisor{x: x}
	}
	e := &accountEntry{name: name, id: book.AccountID(len(r.list) + 1)}
	a := newAccountActor(x, e)
	mb := newMailbox().(*mailbox)
	a.mb = mb
	produce := func() actor.Mailbox { return mb } // spawned once: never restarted with a new mailbox
	run := x.running(a, mb, &a.j, actorAccount+uint32(e.id))
	props := actor.PropsFromProducer(func() actor.Actor { return run }, x.props(actor.WithGuardian(r.super), actor.WithMailbox(produce))...)
	pid, err := x.root.SpawnNamed(props, accountPrefix+name)
	if err != nil {
		// Only a name taken outside the registry could collide; fall back
		// to a generated name rather than refuse the account.
		pid = x.root.Spawn(props)
	}
	e.pid, e.mb = pid, mb
	if x.rec != nil {
		// Under r.mu: ids are issued in journal order, so recovery
		// gives every account the id it had.
		x.rec.newAccount(e, a)
	}
	r.list = append(r.list, e)
	r.byName.Store(name, e)
	return e
}

// lookup returns the entry of account name, nil when it was never used.
func (r *registry) lookup(name string) *accountEntry {
	if e, ok := r.byName.Load(name); ok {
		return e.(*accountEntry)
	}
	return nil
}

// mailbox returns the mailbox of account id's actor (nil if unknown).
func (r *registry) mailbox(id book.AccountID) *mailbox {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 1 || int(id) > len(r.list) {
		return nil
	}
	return r.list[id-1].mb
}

// entry returns account id's entry (nil if unknown).
func (r *registry) entry(id book.AccountID) *accountEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id < 1 || int(id) > len(r.list) {
		return nil
	}
	return r.list[id-1]
}

// all returns every account entry so far, by id.
func (r *registry) all() []*accountEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.list)
}

func (r *registry) byPID(pid *actor.PID) *accountEntry {
	for _, e := range r.all() {
		if e.pid != nil && e.pid.Equal(pid) {
			return e
		}
	}
	return nil
}

// answeredWhenFailed reports whether a failed account answers m
// (refuseAll): the messages whose senders wait for an answer.
func answeredWhenFailed(m any) bool {
	switch m.(type) {
	case *adlCloseMsg, *socialMsg, *takerResultMsg, *reservedMsg, *canceledMsg, *makerFillMsg,
		*adlPlanMsg, *adlFilledMsg: // counted by its abandoned liquidation (an ADL close booked on its leg)
		return true
	}
	return false
}

// accountSupervisor is the guardian strategy of every account actor. A
// panic takes the account out of service — no restart: its in-memory state
// cannot be trusted — marks it failed (journaled: failrecord.go), answers
// the request that panicked INTERNAL and logs. The actor is then
// resumed rather than stopped, in a refuse-all mode (accountActor.refuseAll)
// in which every request still queued in its mailbox or sent later is
// answered INTERNAL exactly once (a stopped actor would drop its mailbox
// silently) and only audits and probes read its frozen state. Nothing else
// is touched, so no other account is affected.
type accountSupervisor struct{ x *Exchange }

func (s *accountSupervisor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, message any) {
	why := fmt.Sprint(reason)
	message = unwrapEnvelope(message) // one in flight at a restart is redelivered in an envelope
	e := s.x.accounts.byPID(child)
	if e == nil { // no account of the registry: nothing to take out of service
		s.x.log.Error("actors: an unknown account actor panicked", "actor", child.Id, "reason", why)
		sup.ResumeChildren(child)
		return
	}
	var at uint64
	if !e.failed.Load() {
		at = s.x.journalFailure(child, message, why) // before it handles anything else
	}
	first := s.x.accountFailed(e, message, why, at)
	if first && repostedToAccount(message) {
		// Another actor's protocol message (a forced close, a charge, a
		// book's answer): the failed account answers it as it answers
		// those queued behind it (refuseAll), or its sender waits forever.
		s.x.relay(child, &repostMsg{m: message})
	}
	sup.ResumeChildren(child)
	if first {
		// Counted in flight as the re-post (relay: the panicking message
		// still is), so a snapshot waits until the account has handled it.
		s.x.relay(child, &failedMsg{reason: why})
	}
}
