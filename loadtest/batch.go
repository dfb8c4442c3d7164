package loadtest

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/perpx/perpx/wire"
)

// MaxBatch is the most items an order.batch request carries (API.md).
const MaxBatch = wire.MaxBatchItems

// batchItem is one order of a batch: its kind and its own due time, from
// which its latency is measured.
type batchItem struct {
	kind kind
	due  int64
	role role
}

// group collects one account's items of a wake-up into an order.batch body.
type group struct {
	subject string
	body    []byte
	items   []batchItem
}

// batcher groups a sender's requests by account (the trader, which owns one
// account) into order.batch requests of up to size items. Only the pipe's
// sender goroutine uses it.
type batcher struct {
	size    int
	of      []int // table index -> group index
	groups  []group
	touched []int // groups holding items, in the order they got their first
	scratch []byte
}

func newBatcher(table []trader, size int) *batcher {
	b := &batcher{size: size, of: make([]int, len(table)), scratch: make([]byte, 0, 512)}
	seen := map[trader]int{}
	for i, t := range table {
		g, ok := seen[t]
		if !ok {
			g = len(b.groups)
			seen[t] = g
			b.groups = append(b.groups, group{subject: t.batchSubject(), body: make([]byte, 0, 256*size),
				items: make([]batchItem, 0, size)})
		}
		b.of[i] = g
	}
	b.touched = make([]int, 0, len(b.groups))
	return b
}

// add asks table entry ti for its next request, due at due, and sends its
// account's batch when full.
func (b *batcher) add(p *pipe, table []trader, ti int, due int64) {
	gi := b.of[ti]
	g := &b.groups[gi]
	t := table[ti]
	k, _, body := t.next(b.scratch[:0])
	b.scratch = body[:0]
	if len(g.items) == 0 {
		g.body = append(g.body[:0], `{"orders":[`...)
		b.touched = append(b.touched, gi)
	} else {
		g.body = append(g.body, ',')
	}
	if k == kindCancel {
		g.body = append(g.body, `{"cancel":`...)
	} else {
		g.body = append(g.body, `{"place":`...)
	}
	g.body = append(append(g.body, body...), '}')
	g.items = append(g.items, batchItem{kind: k, due: due, role: t.role()})
	if len(g.items) >= b.size {
		b.send(p, g)
	}
}

// flush sends every partly filled batch.
func (b *batcher) flush(p *pipe) {
	for _, gi := range b.touched {
		if g := &b.groups[gi]; len(g.items) > 0 {
			b.send(p, g)
		}
	}
	b.touched = b.touched[:0]
}

func (b *batcher) send(p *pipe, g *group) {
	g.body = append(g.body, "]}"...)
	p.sendBatch(g.subject, g.body, g.items)
	g.items = g.items[:0]
}

// sendBatch publishes one order.batch whose items become requests n0,
// n0+1, …: the reply comes to n0 and its results are matched in order.
func (p *pipe) sendBatch(subject string, body []byte, items []batchItem) {
	n0 := p.registerBatch(items)
	if err := p.nc.PublishRequest(subject, string(strconv.AppendUint(p.reply, n0, 10)), body); err != nil {
		p.mu.Lock()
		for j := range uint64(len(items)) {
			if s := &p.ring[(n0+j)&p.mask]; s.live && s.n == n0+j {
				s.live = false
				p.outstanding--
			}
		}
		p.t.pubErrs += int64(len(items))
		p.mu.Unlock()
	}
}

// registerBatch records the items as requests in flight, the first
// carrying the batch's size.
func (p *pipe) registerBatch(items []batchItem) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n0 := p.next
	now := p.clock()
	for _, it := range items {
		p.registerLocked(it.kind, it.role, it.due, now)
	}
	p.ring[n0&p.mask].size = uint8(len(items))
	return n0
}

// replyOutcomes is what one reply says: a single outcome (whole), or for a
// batch reply (batch) the outcome of each result in order; results beyond
// MaxBatch are only counted (n).
type replyOutcomes struct {
	whole outcome
	batch bool
	n     int
	items [MaxBatch]outcome
}

var resultsPrefix = []byte(`{"ok":true,"results":[`)

// read classifies a reply. The exchange's own encoding is split in place;
// a differently spaced batch reply goes through encoding/json.
func (r *replyOutcomes) read(data []byte) {
	if bytes.HasPrefix(data, resultsPrefix) {
		r.batch = true
		r.split(data[len(resultsPrefix):])
		return
	}
	if !bytes.HasPrefix(data, okPrefix) && !bytes.HasPrefix(data, failPrefix) {
		var b struct {
			OK      *bool             `json:"ok"`
			Results []json.RawMessage `json:"results"`
		}
		if json.Unmarshal(data, &b) == nil && b.OK != nil && *b.OK && b.Results != nil {
			r.batch = true
			for _, raw := range b.Results {
				r.add(classify(raw))
			}
			return
		}
	}
	r.whole = classify(data)
}

func (r *replyOutcomes) add(o outcome) {
	if r.n < len(r.items) {
		r.items[r.n] = o
	}
	r.n++
}

// split classifies the objects of a results array up to its closing
// bracket; a malformed rest is left out (its items count as bad replies).
func (r *replyOutcomes) split(rest []byte) {
	for len(rest) > 0 {
		switch rest[0] {
		case ']':
			return
		case ',', ' ', '\n', '\t', '\r':
			rest = rest[1:]
			continue
		}
		end := wire.ObjectEnd(rest)
		if end < 0 {
			return
		}
		r.add(classify(rest[:end]))
		rest = rest[end:]
	}
}

// completeReply records the reply to request n received at now. For a
// batch, item j is request n+j: it gets result j, or the batch's own error
// when the batch failed as a whole; a missing result counts as a bad reply
// and an extra one as a stray.
func (p *pipe) completeReply(n uint64, now int64, r *replyOutcomes) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.liveLocked(n)
	if s == nil {
		return
	}
	size := uint64(s.size)
	if size == 0 {
		if r.batch {
			p.completeLocked(s, now, outcome{code: CodeBadReply})
			return
		}
		p.completeLocked(s, now, r.whole)
		return
	}
	for j := range size {
		it := &p.ring[(n+j)&p.mask]
		if !it.live || it.n != n+j {
			continue // given up already: counted as a timeout
		}
		o := r.whole
		switch {
		case r.batch && j < uint64(min(r.n, MaxBatch)):
			o = r.items[j]
		case r.batch || o.ok:
			o = outcome{code: CodeBadReply}
		}
		p.completeLocked(it, now, o)
	}
	if r.batch && uint64(r.n) > size {
		p.t.strays += int64(uint64(r.n) - size)
	}
}
