package actors

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	flagpkg "flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/perpx/perpx/market"
	"github.com/perpx/perpx/wire"
)

var updateBehaviour = flagpkg.Bool("update-behaviour", false, "rewrite testdata/behaviour.journal.gz with this Behaviour's journal")

const behaviourFile = "testdata/behaviour.journal.gz"

// behaviourMagic starts the golden journal: then Behaviour, the state hash
// its replay gives, the record count and the records (kind, actor,
// payload).
const behaviourMagic = "PERPXBEHAVIOUR1\n"

// TestBehaviourVersion replays a journal a soak wrote (orders of every
// kind, amends, cancels, leverage, index moves that liquidate; 34 k
// records) and compares the state with the one it gave
// when written: a change that makes the actors decide differently on the
// same records must bump Behaviour, else recovery would replay an older
// journal into a state nobody acknowledged. It catches what this journal
// exercises, not every change.
func TestBehaviourVersion(t *testing.T) {
	if *updateBehaviour {
		writeBehaviourJournal(t)
	}
	v, want, j := readBehaviourJournal(t)
	if v != Behaviour {
		t.Fatalf("%s holds behaviour %d's journal, this is %d: run go test ./actors -run TestBehaviourVersion -update-behaviour", behaviourFile, v, Behaviour)
	}
	const bump = "the actors decide differently: bump actors.Behaviour (DESIGN.md, Durability) and run go test ./actors -run TestBehaviourVersion -update-behaviour"
	x, err := Start(Options{Symbols: partialDemo(), Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Stop)
	if _, err := x.Recover(j.read); err != nil {
		t.Fatalf("replaying behaviour %d's journal: %v: %s", v, err, bump)
	}
	if got := (&env{t: t, x: x}).hash(); got != want {
		t.Fatalf("replaying behaviour %d's journal gives state %x, it gave %x: %s", v, got, want, bump)
	}
}

func writeBehaviourJournal(t *testing.T) {
	j := &memJournal{}
	s := soakRun(t, j, partialDemo(), 20, "1000000", 11)
	want := s.e.hash()
	if got := newEnvWith(t, j.clone(), partialDemo()...).hash(); got != want {
		t.Fatalf("the soak's journal replays to %x, the soak's state is %x", got, want)
	}
	var b bytes.Buffer
	b.WriteString(behaviourMagic)
	p := binary.AppendUvarint(nil, Behaviour)
	p = binary.BigEndian.AppendUint64(p, want)
	p = binary.AppendUvarint(p, uint64(len(j.recs)))
	for _, r := range j.recs {
		p = binary.AppendUvarint(p, uint64(r.kind))
		p = binary.AppendUvarint(p, uint64(r.actor))
		p = appendStr(p, string(r.payload))
	}
	z := gzip.NewWriter(&b)
	if _, err := z.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(behaviourFile, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: behaviour %d, %d records, %d bytes", behaviourFile, Behaviour, len(j.recs), b.Len())
}

func readBehaviourJournal(t *testing.T) (uint64, uint64, *memJournal) {
	f, err := os.ReadFile(behaviourFile)
	if err != nil {
		t.Fatal(err)
	}
	z, err := gzip.NewReader(bytes.NewReader(bytes.TrimPrefix(f, []byte(behaviourMagic))))
	if err != nil || !bytes.HasPrefix(f, []byte(behaviourMagic)) {
		t.Fatalf("%s: not a behaviour journal (%v)", behaviourFile, err)
	}
	raw, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	d := &payload{p: raw}
	v := d.uvarint()
	var hash uint64
	if len(d.p) >= 8 {
		hash, d.p = binary.BigEndian.Uint64(d.p), d.p[8:]
	}
	j := &memJournal{}
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		kind, actor := d.uvarint(), d.uvarint()
		j.recs = append(j.recs, memRecord{uint16(kind), uint32(actor), []byte(d.str())})
	}
	if d.err != nil || len(d.p) != 0 {
		t.Fatalf("%s: damaged (%v, %d bytes left)", behaviourFile, d.err, len(d.p))
	}
	j.durable = uint64(len(j.recs))
	return v, hash, j
}

// TestBehaviourRefused: records another Behaviour wrote, or one that
// recorded none, are refused, after a snapshot too; a version record with
// nothing of its own after it is not.
func TestBehaviourRefused(t *testing.T) {
	j := &memJournal{}
	syms := []*market.Symbol{testSymbol(t, tsym, longTiers()...)}
	e := newEnvWith(t, j, syms...)
	e.index(tsym, "3750")
	e.deposit("alice", "10000")
	e.deposit("bob", "10000")
	e.openPosition("alice", "bob", wire.Buy, "3750", "1", 5)
	e.x.quiesce()
	snap, at, err := e.x.Snapshot(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.mustPlace("alice", tsym, wire.Buy, "3000", "1")
	e.x.quiesce()

	versions := 0
	for _, r := range j.recs {
		if r.kind == recVersion {
			versions++
		}
	}
	if versions != 1 || j.recs[1].kind != recVersion {
		t.Fatalf("%d version records, the second record is kind %d", versions, j.recs[1].kind)
	}
	// recover replays j (from the snapshot when given) on a fresh exchange.
	recover := func(j *memJournal, snap []byte) error {
		x, err := Start(Options{Symbols: syms, Journal: j})
		if err != nil {
			t.Fatal(err)
		}
		defer x.Stop()
		var from uint64
		if snap != nil {
			if from, err = x.LoadSnapshot(snap); err != nil {
				t.Fatal(err)
			}
		}
		_, err = x.Recover(j.readFrom(from + 1))
		return err
	}
	refused := func(err error, by string) {
		t.Helper()
		if !errors.Is(err, ErrRecover) || !errors.Is(err, errBehaviour) || !strings.Contains(err.Error(), by) {
			t.Fatalf("recovery: %v, want a refusal naming %q", err, by)
		}
	}
	other := j.clone()
	other.recs[1].payload = binary.AppendUvarint(binary.AppendUvarint(nil, 1), Behaviour+1)
	refused(recover(other, nil), fmt.Sprintf("behaviour version %d", Behaviour+1))

	none := j.clone()
	none.recs = append(none.recs[:1:1], none.recs[2:]...) // a journal of before versions
	refused(recover(none, nil), "did not record")

	// After the snapshot: this version's records replay, another's do not.
	if err := recover(j.clone(), snap); err != nil {
		t.Fatal(err)
	}
	body := append([]byte(nil), snap[:len(snap)-sha256.Size-len(binary.AppendUvarint(nil, Behaviour))]...)
	body = binary.AppendUvarint(body, Behaviour+1)
	sum := sha256.Sum256(body)
	stale := append(body, sum[:]...)
	if _, err := SnapshotSeq(stale); err != nil {
		t.Fatal(err)
	}
	refused(recover(j.clone(), stale), fmt.Sprintf("behaviour version %d", Behaviour+1))
	if j.Last() == at {
		t.Fatal("no record after the snapshot")
	}

	// Another version started and stopped with nothing of its own: this
	// one's records after its own version record replay.
	late := j.clone()
	late.recs = append(late.recs[:2:2], append([]memRecord{{recVersion, 0, other.recs[1].payload}, j.recs[1]}, j.recs[2:]...)...)
	if err := recover(late, nil); err != nil {
		t.Fatal(err)
	}
}
