package app

// A clustered instance (Options.Role; DESIGN.md "Leadership, following and
// takeover"). Each turn (term) builds a fresh exchange, loads the newest
// snapshot and follows the journal through recovery's own replay path
// (actors.Exchange.Recover with a read that does not end): a follower
// publishes nothing and writes nothing but its announcement. Whoever holds
// the lease (a key of a JetStream KV bucket whose TTL is the lease's)
// promotes its follower to the journal's writer behind a mark record
// (journal.Follower.Promote), ends the recovery and serves. It steps down
// when it loses the lease or its writer stops (fenced by a newer leader's
// mark, or a write that failed): what it decided since is not in the
// journal, so it starts a new term from the journal rather than trust its
// memory.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/journal"
	"github.com/perpx/perpx/wire"
)

// Roles (Options.Role) and what an instance is at a moment.
const (
	RoleAuto     = "auto"
	RoleLeader   = "leader"
	RoleFollower = "follower"
)

const (
	defaultLease = 3 * time.Second
	minLease     = 300 * time.Millisecond
	leaseKey     = "leader"
	nodePrefix   = "node."
	// stopWait bounds how long a leader that stops answers what it had in
	// flight; a deposed one waits less: its writes get no answer anyway.
	stopWait     = 2 * time.Second
	stepDownWait = 100 * time.Millisecond
	// unreachableAfter leases without an answer from the cluster bucket,
	// an instance moves to another server (cluster.announce).
	unreachableAfter = 3
)

// nameToken is what a name may be made of in a KV key.
var nameToken = regexp.MustCompile(`[^A-Za-z0-9_=-]`)

func checkRole(o Options) error {
	switch o.Role {
	case "":
		return nil
	case RoleAuto, RoleLeader, RoleFollower:
	default:
		return fmt.Errorf("app: role %q: want auto, leader or follower", o.Role)
	}
	if o.NATSURL == "" || o.Data == "" {
		return fmt.Errorf("app: role %s needs --nats-url (the cluster that holds the journal) and --data (snapshots)", o.Role)
	}
	if o.Lease != 0 && o.Lease < minLease {
		return fmt.Errorf("app: lease %v: at least %v", o.Lease, minLease)
	}
	return nil
}

// cluster is a clustered instance's side of the process.
type cluster struct {
	a    *App
	o    Options
	kv   jetstream.KeyValue
	name string
	ttl  time.Duration
	subj wire.Subjects

	mu   sync.Mutex
	role string        // RoleFollower or RoleLeader now ("" between terms)
	pos  func() uint64 // the journal record it applied (follower) or appended (leader)
	led  int           // how many times it took over

	first     chan error    // the first term: following (nil) or failed
	leads     chan struct{} // closed when the instance first leads
	leadsOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
}

// nodeInfo is an instance's announcement under node.<name>.
type nodeInfo struct {
	Role    string `json:"role"`
	Applied uint64 `json:"applied"`
	Ms      int64  `json:"ms"`
}

// startCluster joins the cluster and returns once the instance follows the
// journal (with RoleLeader: once it leads).
func (a *App) startCluster(ctx context.Context, o Options) error {
	subj, err := wire.NewSubjects(o.Prefix)
	if err != nil {
		return err
	}
	js, err := jetstream.New(a.nc)
	if err != nil {
		return fmt.Errorf("app: cluster: %w", err)
	}
	ttl := o.Lease
	if ttl == 0 {
		ttl = defaultLease
	}
	kv, ttl, err := leaseBucket(ctx, js, a.jcfg.Stream, ttl, max(o.JournalReplicas, 1))
	if err != nil {
		return err
	}
	name := o.Name
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	c := &cluster{a: a, o: o, kv: kv, name: nameToken.ReplaceAllString(name, "_"), ttl: ttl, subj: subj,
		first: make(chan error, 1), leads: make(chan struct{}), done: make(chan struct{})}
	a.cl = c
	cctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(cctx)
	go c.announce(cctx)
	select {
	case err = <-c.first:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil && o.Role == RoleLeader {
		select {
		case <-c.leads:
		case <-a.failed:
			err = a.Err()
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	return err
}

// leaseBucket opens (or creates) the KV bucket of the lease and of the
// instances' announcements; its TTL is the lease's, whoever created it.
func leaseBucket(ctx context.Context, js jetstream.JetStream, stream string, ttl time.Duration, replicas int) (jetstream.KeyValue, time.Duration, error) {
	name := strings.Replace(stream, "JOURNAL", "CLUSTER", 1)
	kv, err := js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		// In memory: a lease outlives no cluster restart, and renewing it
		// costs no fsync.
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, TTL: ttl, History: 1,
			Storage: jetstream.MemoryStorage, Replicas: replicas})
		if errors.Is(err, jetstream.ErrBucketExists) { // another instance was quicker
			kv, err = js.KeyValue(ctx, name)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("app: cluster bucket %s: %w", name, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("app: cluster bucket %s: %w", name, err)
	}
	if st.TTL() < minLease {
		return nil, 0, fmt.Errorf("app: cluster bucket %s: TTL %v, the lease needs at least %v", name, st.TTL(), minLease)
	}
	return kv, st.TTL(), nil
}

// Role is what a clustered instance is now: RoleLeader, RoleFollower or
// "" (between terms); "" for a lone exchange.
func (a *App) Role() string {
	if a.cl == nil {
		return ""
	}
	r, _ := a.cl.state()
	return r
}

// Applied is the last journal record a clustered instance applied (as a
// follower) or appended (as the leader).
func (a *App) Applied() uint64 {
	if a.cl == nil {
		return 0
	}
	_, pos := a.cl.state()
	return pos
}

// Takeovers is how many times a clustered instance took the lead.
func (a *App) Takeovers() int {
	if a.cl == nil {
		return 0
	}
	a.cl.mu.Lock()
	defer a.cl.mu.Unlock()
	return a.cl.led
}

func (c *cluster) state() (string, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pos == nil {
		return c.role, 0
	}
	return c.role, c.pos()
}

func (c *cluster) setRole(role string, pos func() uint64) {
	c.mu.Lock()
	c.role, c.pos = role, pos
	c.mu.Unlock()
	if role == RoleLeader {
		c.led++
		c.leadsOnce.Do(func() { close(c.leads) })
	}
}

// run runs terms until the instance is closed. A term that fails is
// logged and another starts after half a lease; the first one's failure
// before it follows fails Start instead. A journal of another behaviour
// version, or a record an actor panics on, ends the instance (App.Failed,
// stopsForGood): every term would fail on the same record, and it must
// not lead on it.
func (c *cluster) run(ctx context.Context) {
	defer close(c.done)
	for first := true; ctx.Err() == nil; first = false {
		followed, err := c.term(ctx, first)
		c.setRole("", nil)
		if err == nil || ctx.Err() != nil {
			continue
		}
		if first && !followed {
			c.first <- err
			return
		}
		if fatal := stopsForGood(err); fatal != nil {
			c.a.fail(fatal)
			c.cancel() // no more announcements
			return
		}
		c.a.log.Error("cluster: the exchange stopped; starting again from the journal", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(c.ttl / 2):
		}
	}
}

// stopsForGood is the error that ends the instance for a term's err, nil
// when another term may succeed (a server lost, a gap, a timeout, the
// lease lost, a record that failed to read). Both errors here are the
// journal's records, which every term would meet again, and an instance
// that won the lease meanwhile would take it from one that could lead.
func stopsForGood(err error) error {
	switch {
	case errors.Is(err, actors.ErrBehaviour):
		return fmt.Errorf("app: cluster: stopped: the journal holds records of another behaviour version, which "+
			"this instance can neither follow nor take over on; run the version that writes it here (a cluster changes "+
			"versions by stopping every instance, the leader last: README.md, \"Upgrading a durable exchange\"): %w", err)
	case errors.Is(err, actors.ErrRules):
		return fmt.Errorf("app: cluster: stopped: the journal holds records written under another configuration's rules, which "+
			"this instance would decide differently; give every instance the same config: %w", err)
	case errors.Is(err, actors.ErrReplayPanic):
		return fmt.Errorf("app: cluster: stopped: an actor panics on a record of the journal, on every instance and in every "+
			"term (a bug: DESIGN.md, \"Durability\", known gaps): %w", err)
	}
	return nil
}

// stop ends the instance: a leader steps down cleanly (snapshot, lease
// released at once so a follower takes over without waiting for it to
// expire).
func (c *cluster) stop(ctx context.Context) error {
	c.cancel()
	select {
	case <-c.done:
	case <-ctx.Done():
		return fmt.Errorf("app: cluster: %w", ctx.Err())
	}
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := c.kv.Delete(dctx, nodePrefix+c.name); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		c.a.log.Warn("cluster: announcement not withdrawn", "err", err)
	}
	return nil
}

// term is one turn: follow, and lead once the lease is won, until the
// lease or the journal is lost or the instance closes.
func (c *cluster) term(ctx context.Context, first bool) (followed bool, err error) {
	a := c.a
	feed, err := newFeed(c.o, a.symbols)
	if err != nil {
		return false, err
	}
	tnc, err := dial(c.o, "perpx-exchange")
	if err != nil {
		feed.closeSource()
		return false, err
	}
	a.termMu.Lock()
	a.tnc = tnc
	a.termMu.Unlock()
	var l *lease
	defer func() {
		if err != nil { // a clean end stopped everything itself
			feed.closeSource()
			sctx, cancel := context.WithTimeout(context.Background(), stepDownWait)
			defer cancel()
			_ = a.stopExchange(sctx, false)
			l.release(true)
		}
	}()
	sb := &standby{}
	t, err := a.newExchange(c.o, feed, sb)
	if err != nil {
		return false, err
	}
	from, err := a.loadSnapshot(c.o)
	if err != nil {
		return false, err
	}
	f, err := journal.Follow(a.tnc, a.jcfg, from+1)
	if err != nil {
		return false, fmt.Errorf("app: following the journal after record %d: %w", from, err)
	}
	defer f.Close()
	c.setRole(RoleFollower, f.Applied)
	if first {
		c.first <- nil
	}
	a.log.Info("following the journal", "snapshot", from, "name", c.name, "behaviour", actors.Behaviour)

	fctx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	ended := make(chan struct{})
	defer close(ended)
	won := make(chan *lease)
	if c.o.Role != RoleFollower {
		go func() {
			if l := c.acquire(fctx); l != nil {
				stopFollowing()
				select {
				case won <- l:
				case <-ended:
					l.release(true)
				}
			}
		}()
	}
	var w *journal.Writer
	var expired time.Time
	_, err = a.x.Recover(func(fn func(uint64, uint16, uint32, []byte) error) error {
		for {
			err := f.Next(fctx, fn)
			if err == nil && !f.Behind() {
				// Caught up: what was read runs now, not when more fills
				// the workers' batch, so a damaged record fails here,
				// lease won or not.
				if err := a.x.ReplayCaughtUp(); err != nil {
					return err
				}
			}
			if err == nil {
				continue
			}
			if ctx.Err() != nil || fctx.Err() == nil || !errors.Is(err, context.Canceled) {
				return err // closing, or the journal or a record failed
			}
			break // the lease is won
		}
		l = <-won
		if err := a.x.ReplayCaughtUp(); err != nil {
			return err // a damaged record read before the lease: never take over on it
		}
		expired = l.acquired
		pctx, cancel := context.WithTimeout(ctx, c.ttl)
		defer cancel()
		kind, actor, p := actors.LeaderRecord(time.Now().UnixMilli(), c.name)
		var err error
		if w, err = f.Promote(pctx, fn, kind, actor, p); err != nil {
			return fmt.Errorf("app: taking over the journal after record %d: %w", f.Applied(), err)
		}
		a.termMu.Lock()
		a.jw = w
		a.termMu.Unlock()
		sb.w.Store(w)
		return nil
	})
	if err != nil {
		return true, err
	}
	a.recovered(0)
	if err = a.serve(c.o, t); err != nil {
		return true, err
	}
	sub, err := a.tnc.QueueSubscribe(c.subj.AdminCluster(), t.gopts.Queue, c.answer)
	if err != nil {
		return true, err
	}
	c.setRole(RoleLeader, w.Last)
	a.log.Info("leading", "name", c.name, "journal", w.Last(), "since lease won", time.Since(expired).Round(time.Millisecond))

	clean := false
	select {
	case <-ctx.Done():
		clean = true
	case <-l.lost:
		a.log.Warn("cluster: lease lost; stepping down")
	case <-w.Failed():
		a.log.Warn("cluster: the journal writer stopped; stepping down", "err", w.Err())
	}
	_ = sub.Unsubscribe()
	c.setRole("", nil)
	wait := stepDownWait
	if clean {
		wait = stopWait
	}
	sctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := a.stopExchange(sctx, clean); err != nil && clean {
		a.log.Warn("cluster: stop", "err", err)
	}
	l.release(true)
	return true, nil
}

// acquire takes the lease once it is free (absent: never taken, expired,
// released), trying every twentieth of a lease; nil when ctx ends first.
func (c *cluster) acquire(ctx context.Context) *lease {
	tick := time.NewTicker(max(c.ttl/20, 10*time.Millisecond))
	defer tick.Stop()
	// The nonce tells this attempt's claim from any other, this instance's
	// earlier ones included.
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	val, _ := json.Marshal(map[string]string{"name": c.name, "nonce": hex.EncodeToString(nonce[:])})
	for {
		sent := time.Now()
		rctx, cancel := context.WithTimeout(ctx, c.ttl/4)
		rev, err := c.kv.Create(rctx, leaseKey, val)
		if errors.Is(err, jetstream.ErrKeyExists) {
			rev, err = c.ours(rctx, val, err)
		}
		cancel()
		if err == nil {
			l := &lease{c: c, val: val, rev: rev, acquired: sent, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
			go l.keep(sent)
			return l
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
			c.a.log.Debug("cluster: lease", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// ours returns the lease key's revision when it holds val: a claim or
// renewal of this lease that timed out but was stored (a JetStream
// leader elected meanwhile may apply a request whose client gave up);
// otherwise why (taken).
func (c *cluster) ours(ctx context.Context, val []byte, why error) (uint64, error) {
	e, err := c.kv.Get(ctx, leaseKey)
	if err != nil {
		return 0, errors.Join(why, err)
	}
	if !bytes.Equal(e.Value(), val) {
		return 0, why
	}
	return e.Revision(), nil
}

// lease is the leadership, held while keep renews it.
type lease struct {
	c        *cluster
	val      []byte
	rev      uint64 // keep's, then release's
	acquired time.Time
	lost     chan struct{} // closed when it is lost or may be
	stop     chan struct{}
	done     chan struct{} // keep returned
	once     sync.Once
}

// keep renews the lease by its revision every quarter lease. It is lost
// when someone else's revision is there, or when no renewal succeeded
// within three quarters of a lease of its sending: the server expires the
// key a whole lease after it stored the last renewal, so the holder has
// given up before anyone else can take it (up to the clocks' rates).
func (l *lease) keep(ok time.Time) {
	defer close(l.done)
	ttl := l.c.ttl
	t := time.NewTimer(ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		sent := time.Now()
		deadline := ok.Add(ttl * 3 / 4)
		until := sent.Add(ttl / 4)
		if deadline.Before(until) {
			until = deadline
		}
		ctx, cancel := context.WithDeadline(context.Background(), until)
		rev, err := l.c.kv.Update(ctx, leaseKey, l.val, l.rev)
		cancel()
		if err == nil {
			l.rev, ok = rev, sent
			t.Reset(max(0, ttl/4-time.Since(sent)))
			continue
		}
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			// Our own write stored after we gave up on it holds the key:
			// renew on its revision. Anyone else's: lost.
			rctx, cancel := context.WithDeadline(context.Background(), deadline)
			rev, err = l.c.ours(rctx, l.val, err)
			cancel()
			if err == nil {
				l.rev = rev
			}
		}
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) || !time.Now().Before(deadline) {
			l.c.a.log.Warn("cluster: lease lost", "err", err)
			close(l.lost)
			return
		}
		t.Reset(10 * time.Millisecond) // try again at once, while it is still ours
	}
}

// release stops renewing; free deletes the key while it is still this
// lease's, so that a follower need not wait for it to expire. Nil-safe.
func (l *lease) release(free bool) {
	if l == nil {
		return
	}
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		select {
		case <-l.lost:
			return
		default:
		}
		if free {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = l.c.kv.Delete(ctx, leaseKey, jetstream.LastRevision(l.rev))
		}
	})
}

// announce puts the instance's role and journal position under
// node.<name> every quarter lease (at most every half second); the bucket's
// TTL drops an instance that stopped announcing. When no put succeeds for
// unreachableAfter leases, the NATS server it is connected to has lost the
// cluster (a partition that left it alone keeps its clients connected):
// it reconnects to another of --nats-url's servers.
func (c *cluster) announce(ctx context.Context) {
	t := time.NewTicker(min(c.ttl/4, 500*time.Millisecond))
	defer t.Stop()
	ok := time.Now()
	for {
		role, pos := c.state()
		if role == "" {
			role = RoleFollower // between terms: still here
		}
		p, _ := json.Marshal(nodeInfo{Role: role, Applied: pos, Ms: time.Now().UnixMilli()})
		pctx, cancel := context.WithTimeout(ctx, c.ttl/4)
		_, err := c.kv.Put(pctx, nodePrefix+c.name, p)
		cancel()
		switch {
		case err == nil:
			ok = time.Now()
		case ctx.Err() != nil:
		case time.Since(ok) > unreachableAfter*c.ttl:
			c.a.log.Warn("cluster: no answer from the cluster through this server; reconnecting to another",
				"server", c.a.nc.ConnectedUrlRedacted(), "since", time.Since(ok).Round(time.Millisecond), "err", err)
			c.reconnect()
			ok = time.Now()
		default:
			c.a.log.Debug("cluster: announce", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reconnect moves the process's connection, and the term's when it has
// its own, to the next of --nats-url's servers.
func (c *cluster) reconnect() {
	_ = c.a.nc.ForceReconnect()
	c.a.termMu.RLock()
	tnc := c.a.tnc
	c.a.termMu.RUnlock()
	if tnc != nil && tnc != c.a.nc {
		_ = tnc.ForceReconnect()
	}
}

// answer serves px.admin.cluster (the leader only: a follower publishes
// nothing).
func (c *cluster) answer(m *nats.Msg) {
	if _, werr := wire.DecodeCluster(m.Data); werr != nil {
		_ = m.Respond(wire.Encode(wire.ClusterReply{Reply: wire.Fail(werr)}))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.ttl)
	defer cancel()
	_, last := c.state()
	r := wire.ClusterReply{Reply: wire.OK(), Leader: c.name, LeaseMs: c.ttl.Milliseconds(), JournalSeq: last}
	keys, err := c.kv.ListKeysFiltered(ctx, nodePrefix+">")
	if err != nil {
		_ = m.Respond(wire.Encode(wire.ClusterReply{Reply: wire.Fail(wire.Errorf(wire.CodeInternal, "cluster bucket: %v", err))}))
		return
	}
	now := time.Now().UnixMilli()
	for k := range keys.Keys() {
		e, err := c.kv.Get(ctx, k)
		var n nodeInfo
		if err != nil || json.Unmarshal(e.Value(), &n) != nil {
			continue // gone meanwhile, or not an announcement
		}
		in := wire.ClusterInstance{Name: strings.TrimPrefix(k, nodePrefix), Role: n.Role, Applied: n.Applied, AgeMs: now - n.Ms}
		if in.Name == c.name {
			in.Role, in.Applied, in.AgeMs = RoleLeader, last, 0
		}
		if last > in.Applied {
			in.Lag = last - in.Applied
		}
		r.Instances = append(r.Instances, in)
	}
	slices.SortFunc(r.Instances, func(x, y wire.ClusterInstance) int {
		switch {
		case x.Name == c.name:
			return -1
		case y.Name == c.name:
			return 1
		}
		return strings.Compare(x.Name, y.Name)
	})
	_ = m.Respond(wire.Encode(r))
}

// errFollowing: a follower's exchange appended a record; it only replays.
var errFollowing = errors.New("app: a follower does not write the journal")

// standby is a clustered exchange's journal: nothing while it follows,
// the writer Promote gave it once it leads.
type standby struct {
	w atomic.Pointer[journal.Writer]
}

func (s *standby) Append(kind uint16, actor uint32, p []byte, onDurable func(uint64, error)) uint64 {
	if w := s.w.Load(); w != nil {
		return w.Append(kind, actor, p, onDurable)
	}
	if onDurable != nil {
		onDurable(0, errFollowing)
	}
	return 0
}

func (s *standby) Last() uint64 {
	if w := s.w.Load(); w != nil {
		return w.Last()
	}
	return 0
}

func (s *standby) Durable() uint64 {
	if w := s.w.Load(); w != nil {
		return w.Durable()
	}
	return 0
}
