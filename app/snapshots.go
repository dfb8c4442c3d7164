package app

// Snapshots of a durable exchange, as files under <data>/snapshots: taken
// every SnapshotEvery records or SnapshotInterval and on a clean stop,
// each written once the journal is durable up to its sequence; the newest
// two are kept and the journal before the older one is trimmed. Recovery
// loads the newest whose hash verifies and replays the journal after it.
// A clustered instance also keeps them in a JetStream object store beside
// the journal (sharedSnapshots), so that one started after the trim (a
// new standby, or one whose disk was lost) has a snapshot to follow from.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/perpx/perpx/actors"
	"github.com/perpx/perpx/gateway"
	"github.com/perpx/perpx/journal"
)

const (
	snapPrefix, snapSuffix = "snap-", ".bin"
	// snapshotsKept: the newest and one to fall back on.
	snapshotsKept = 2
	// snapshotWait bounds how long requests wait for a quiescent point.
	snapshotWait = 20 * time.Millisecond
	// snapshotLookup bounds how long a term's start looks for shared
	// snapshots.
	snapshotLookup = 5 * time.Second
)

func snapDir(data string) string { return filepath.Join(data, "snapshots") }

// snapFile is a snapshot on disk, or in the shared store (shared: path
// is then the object's name).
type snapFile struct {
	path   string
	seq    uint64
	shared bool
}

func snapName(seq uint64) string { return fmt.Sprintf("%s%020d%s", snapPrefix, seq, snapSuffix) }

// snapSeq is the sequence a snapshot's name says it holds.
func snapSeq(name string) (uint64, bool) {
	if !strings.HasPrefix(name, snapPrefix) || !strings.HasSuffix(name, snapSuffix) {
		return 0, false
	}
	seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, snapPrefix), snapSuffix), 10, 64)
	return seq, err == nil
}

// snapList is the snapshots among names, newest first; path gives where
// one named so is (shared: in the shared store).
func snapList(names []string, path func(string) string, shared bool) []snapFile {
	var out []snapFile
	for _, n := range names {
		if seq, ok := snapSeq(n); ok {
			out = append(out, snapFile{path(n), seq, shared})
		}
	}
	slices.SortFunc(out, newestFirst)
	return out
}

func newestFirst(a, b snapFile) int { return cmp.Compare(b.seq, a.seq) }

// sharedSnapshots opens the object store a clustered instance keeps its
// snapshots in, creating it when create (the leader, to put one); nil for
// a lone exchange, and when it does not exist and create is false.
func (a *App) sharedSnapshots(ctx context.Context, create bool) (jetstream.ObjectStore, error) {
	if a.cl == nil {
		return nil, nil
	}
	js, err := jetstream.New(a.tnc)
	if err != nil {
		return nil, err
	}
	name := strings.Replace(a.jcfg.Stream, "JOURNAL", "SNAPSHOTS", 1)
	st, err := js.ObjectStore(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) && !create {
		return nil, nil
	}
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		st, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: name, Replicas: max(a.jcfg.Replicas, 1),
			Storage: jetstream.FileStorage, Description: "perpx snapshots of journal " + a.jcfg.Stream})
		if errors.Is(err, jetstream.ErrBucketExists) { // another instance was quicker
			st, err = js.ObjectStore(ctx, name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("app: snapshot store %s: %w", name, err)
	}
	return st, nil
}

// getShared fetches a shared snapshot (its size is the state's: its own
// deadline, not the lookup's).
func getShared(st jetstream.ObjectStore, name string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return st.GetBytes(ctx, name)
}

// sharedFiles lists the shared store's snapshots, newest first.
func sharedFiles(ctx context.Context, st jetstream.ObjectStore) ([]snapFile, error) {
	infos, err := st.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("app: snapshot store: %w", err)
	}
	names := make([]string, len(infos))
	for i, o := range infos {
		names[i] = o.Name
	}
	return snapList(names, func(n string) string { return n }, true), nil
}

// snapshotFiles lists the snapshots newest first.
func snapshotFiles(data string) ([]snapFile, error) {
	ents, err := os.ReadDir(snapDir(data))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("app: snapshots: %w", err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return snapList(names, func(n string) string { return filepath.Join(snapDir(data), n) }, false), nil
}

// recover loads the newest good snapshot into a.x and replays the journal
// after it. A damaged snapshot is skipped (logged); one whose content the
// exchange refuses, or a journal that does not continue it, stops start.
func (a *App) recover(o Options, cfg journal.Config) error {
	t := time.Now()
	from, err := a.loadSnapshot(o)
	if err != nil {
		return err
	}
	n, err := a.x.Recover(func(fn func(uint64, uint16, uint32, []byte) error) error {
		_, err := journal.Read(a.tnc, cfg, from+1, fn)
		return err
	})
	if err != nil {
		return fmt.Errorf("app: recovery from the journal after record %d: %w", from, err)
	}
	if n > 0 {
		// Records replayed: a clean stop takes a snapshot even if nothing
		// else happens, so that the journal ends at one (the next start
		// replays nothing; new rules or a new Behaviour may start on it).
		a.snapMu.Lock()
		a.snapSeq, a.snapAt = from, time.Now()
		a.snapMu.Unlock()
	} else {
		a.recovered(from)
	}
	a.log.Info("recovered", "snapshot", from, "records", n, "took", time.Since(t).Round(time.Millisecond))
	return nil
}

// recovered notes the state as snapshot at from or the journal's end.
func (a *App) recovered(from uint64) {
	a.snapMu.Lock()
	a.snapSeq, a.snapAt = max(from, a.jw.Last()), time.Now()
	a.snapMu.Unlock()
}

// loadSnapshot loads the newest good snapshot into a.x, its own or the
// shared store's, and returns its sequence (0 when there is none).
func (a *App) loadSnapshot(o Options) (uint64, error) {
	files, err := snapshotFiles(o.Data)
	if err != nil {
		return 0, err
	}
	// The shared store is a help, not a need: unreachable (a term starting
	// while its server rejoins the cluster), the files are what there is,
	// as before it existed.
	ctx, cancel := context.WithTimeout(context.Background(), snapshotLookup)
	defer cancel()
	st, err := a.sharedSnapshots(ctx, false)
	var shared []snapFile
	if err == nil && st != nil {
		shared, err = sharedFiles(ctx, st)
	}
	if err != nil {
		a.log.Warn("shared snapshots unreachable: only this instance's files", "err", err)
	} else {
		for _, f := range shared {
			if !slices.ContainsFunc(files, func(g snapFile) bool { return g.seq == f.seq }) {
				files = append(files, f)
			}
		}
		slices.SortStableFunc(files, newestFirst)
	}
	var from uint64
	for _, f := range files {
		var p []byte
		if f.shared {
			p, err = getShared(st, f.path)
		} else {
			p, err = os.ReadFile(f.path)
		}
		if err == nil {
			var seq uint64
			if seq, err = actors.SnapshotSeq(p); err == nil && seq != f.seq {
				err = fmt.Errorf("it holds sequence %d", seq)
			}
		}
		if err != nil {
			a.log.Error("snapshot unusable, trying an older one", "file", f.path, "err", err)
			continue
		}
		if from, err = a.x.LoadSnapshot(p); err != nil {
			return 0, fmt.Errorf("app: snapshot %s: %w", f.path, err)
		}
		a.log.Info("snapshot loaded", "file", f.path, "seq", from)
		break
	}
	return from, nil
}

// snapshotter takes snapshots while ctx lives.
func (a *App) snapshotter(ctx context.Context, o Options, cfg journal.Config) {
	every, interval := o.SnapshotEvery, o.SnapshotInterval
	tick := time.NewTicker(min(interval, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		last := a.jw.Last()
		if last == a.snapSeq || (last-a.snapSeq < uint64(every) && time.Since(a.snapAt) < interval) {
			continue
		}
		if err := a.snapshot(o, cfg, snapshotWait); err != nil && !errors.Is(err, actors.ErrBusy) {
			a.log.Error("snapshot", "err", err)
		}
	}
}

// snapshot takes one, stores it once the journal holds its sequence,
// drops the oldest and trims the journal before the one kept to fall back
// on.
func (a *App) snapshot(o Options, cfg journal.Config, wait time.Duration) error {
	t := time.Now()
	p, seq, err := a.x.Snapshot(wait)
	if err != nil {
		return err
	}
	took := time.Since(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.jw.Sync(ctx); err != nil {
		return fmt.Errorf("app: snapshot %d: the journal: %w", seq, err)
	}
	dir := snapDir(o.Data)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("app: snapshot: %w", err)
	}
	path := filepath.Join(dir, snapName(seq))
	if err := writeFileSync(path, p); err != nil {
		return fmt.Errorf("app: snapshot: %w", err)
	}
	a.snapMu.Lock()
	a.snapSeq, a.snapAt = seq, time.Now()
	a.snapMu.Unlock()
	a.log.Info("snapshot", "seq", seq, "bytes", len(p), "paused", took.Round(time.Microsecond))
	files, err := snapshotFiles(o.Data)
	if err != nil || len(files) < snapshotsKept {
		return err
	}
	for _, f := range files[snapshotsKept:] {
		if err := os.Remove(f.path); err != nil {
			return fmt.Errorf("app: snapshot: %w", err)
		}
	}
	trim := files[snapshotsKept-1].seq
	// Shared before the trim, which leaves no less than the shared store's
	// older snapshot needs: an instance without these files starts from it.
	// A store that fails (or holds one) trims nothing.
	shared, err := a.shareSnapshot(ctx, seq, p)
	if err != nil {
		return err
	}
	if a.cl != nil {
		if len(shared) < snapshotsKept {
			return nil
		}
		trim = min(trim, shared[snapshotsKept-1].seq)
	}
	return journal.Trim(a.tnc, cfg, trim+1)
}

// shareSnapshot puts the snapshot at seq in the shared store (a clustered
// instance's), drops the store's older ones but the newest kept and
// returns those, newest first; nil for a lone exchange.
func (a *App) shareSnapshot(ctx context.Context, seq uint64, p []byte) ([]snapFile, error) {
	st, err := a.sharedSnapshots(ctx, true)
	if err != nil || st == nil {
		return nil, err
	}
	if _, err := st.PutBytes(ctx, snapName(seq), p); err != nil {
		return nil, fmt.Errorf("app: snapshot %d to the shared store: %w", seq, err)
	}
	shared, err := sharedFiles(ctx, st)
	if err != nil || len(shared) <= snapshotsKept {
		return shared, err
	}
	for _, f := range shared[snapshotsKept:] {
		if err := st.Delete(ctx, f.path); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, fmt.Errorf("app: snapshot store: %w", err)
		}
	}
	return shared[:snapshotsKept], nil
}

// writeFileSync writes path whole or not at all: a temporary file, synced,
// renamed over it, the directory synced.
func writeFileSync(path string, p []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(p)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// exportDurability puts the journal's position and the latest snapshot in
// /metrics: an operator sees the journal stalled (durable behind last) or
// snapshots failing (the age growing).
func (a *App) exportDurability(m *gateway.Metrics, jw *journal.Writer) {
	m.RegisterGauge("perpx_journal_last_seq", "The latest journal record appended.", func() float64 { return float64(jw.Last()) })
	m.RegisterGauge("perpx_journal_durable_seq", "The journal record up to which everything is stored.", func() float64 { return float64(jw.Durable()) })
	m.RegisterGauge("perpx_snapshot_seq", "The journal record the latest snapshot was taken at.", func() float64 {
		a.snapMu.Lock()
		defer a.snapMu.Unlock()
		return float64(a.snapSeq)
	})
	m.RegisterGauge("perpx_snapshot_age_seconds", "Seconds since the latest snapshot (or the start).", func() float64 {
		a.snapMu.Lock()
		defer a.snapMu.Unlock()
		return time.Since(a.snapAt).Seconds()
	})
}
