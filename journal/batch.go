package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"iter"
)

// One JetStream message holds one batch (all integers big endian):
//
//	magic    [4]byte  "PXJB"
//	version  uint16   1
//	first    uint64   journal sequence of the first record (≥ 1)
//	count    uint32   records in the batch (≥ 1)
//	records  count × { kind uint16, actor uint32, length uvarint, payload [length]byte }
//	crc      uint32   CRC-32C (Castagnoli) of every byte before it
//
// A record's sequence is first + its index: sequences are dense, so a
// batch names them once. Lengths are minimal uvarints, so a batch has one
// encoding and decoding then encoding gives the same bytes back.
const (
	magic        = "PXJB"
	version      = 1
	headerSize   = 4 + 2 + 8 + 4
	trailerSize  = 4
	minRecord    = 2 + 4 + 1 // kind, actor, a zero length
	maxSeq       = ^uint64(0)
	offVersion   = 4
	offFirst     = 6
	offCount     = 14
	minBatchSize = headerSize + minRecord + trailerSize
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of DecodeBatch; the error's text says what is wrong and where.
var (
	// ErrCorrupt: the bytes are not a well-formed batch (too short, bad
	// magic, checksum, count or lengths).
	ErrCorrupt = errors.New("journal: corrupt batch")
	// ErrVersion: a well-marked batch of a format this build cannot read.
	ErrVersion = errors.New("journal: unsupported batch version")
)

// Record is one journal entry. Payload aliases the decoded bytes.
type Record struct {
	Seq     uint64
	Kind    uint16
	Actor   uint32
	Payload []byte
}

// Batch is a decoded and verified batch.
type Batch struct {
	// First is the journal sequence of the first record.
	First uint64
	// Count is the number of records, at least 1.
	Count int
	body  []byte // the records, already verified
}

// Last is the journal sequence of the batch's last record.
func (b Batch) Last() uint64 { return b.First + uint64(b.Count) - 1 }

// Records yields the records in order. The payloads alias the bytes given
// to DecodeBatch.
func (b Batch) Records() iter.Seq[Record] {
	return func(yield func(Record) bool) {
		p := b.body
		for i := range b.Count {
			r, n := readRecord(p)
			r.Seq = b.First + uint64(i)
			if !yield(r) {
				return
			}
			p = p[n:]
		}
	}
}

// readRecord reads a record DecodeBatch has verified.
func readRecord(p []byte) (Record, int) {
	n, w := binary.Uvarint(p[6:])
	end := 6 + w + int(n)
	return Record{Kind: binary.BigEndian.Uint16(p), Actor: binary.BigEndian.Uint32(p[2:]), Payload: p[6+w : end : end]}, end
}

// DecodeBatch verifies data as one batch: magic, version, checksum, the
// count, every length and that nothing follows the last record. It never
// panics and allocates nothing.
func DecodeBatch(data []byte) (Batch, error) {
	if len(data) < minBatchSize {
		return Batch{}, fmt.Errorf("%w: %d bytes, a batch has at least %d", ErrCorrupt, len(data), minBatchSize)
	}
	if string(data[:4]) != magic {
		return Batch{}, fmt.Errorf("%w: bad magic %q", ErrCorrupt, data[:4])
	}
	if v := binary.BigEndian.Uint16(data[offVersion:]); v != version {
		return Batch{}, fmt.Errorf("%w: version %d, this build reads %d", ErrVersion, v, version)
	}
	body := data[:len(data)-trailerSize]
	if sum, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(data[len(body):]); sum != want {
		return Batch{}, fmt.Errorf("%w: checksum %08x, trailer says %08x", ErrCorrupt, sum, want)
	}
	first := binary.BigEndian.Uint64(data[offFirst:])
	count := uint64(binary.BigEndian.Uint32(data[offCount:]))
	body = body[headerSize:]
	switch {
	case first == 0:
		return Batch{}, fmt.Errorf("%w: first sequence 0", ErrCorrupt)
	case count == 0:
		return Batch{}, fmt.Errorf("%w: no records", ErrCorrupt)
	case count > uint64(len(body)/minRecord):
		return Batch{}, fmt.Errorf("%w: %d records cannot fit %d bytes", ErrCorrupt, count, len(body))
	case first > maxSeq-count+1:
		return Batch{}, fmt.Errorf("%w: sequences %d+%d overflow", ErrCorrupt, first, count)
	}
	p := body
	for i := range count {
		if len(p) < minRecord {
			return Batch{}, fmt.Errorf("%w: record %d of %d: %d bytes left", ErrCorrupt, i+1, count, len(p))
		}
		n, w := binary.Uvarint(p[6:])
		switch {
		case w <= 0:
			return Batch{}, fmt.Errorf("%w: record %d of %d: bad length", ErrCorrupt, i+1, count)
		case w != uvarintLen(n):
			return Batch{}, fmt.Errorf("%w: record %d of %d: length not minimally encoded", ErrCorrupt, i+1, count)
		case n > uint64(len(p)-6-w):
			return Batch{}, fmt.Errorf("%w: record %d of %d: length %d, %d bytes left", ErrCorrupt, i+1, count, n, len(p)-6-w)
		}
		p = p[6+w+int(n):]
	}
	if len(p) != 0 {
		return Batch{}, fmt.Errorf("%w: %d bytes after the last record", ErrCorrupt, len(p))
	}
	return Batch{First: first, Count: int(count), body: body}, nil
}

// uvarintLen is the length of n as a minimal uvarint.
func uvarintLen(n uint64) int {
	w := 1
	for ; n >= 0x80; n >>= 7 {
		w++
	}
	return w
}

// recordSize is what a record with an n-byte payload adds to a batch.
func recordSize(n int) int { return 2 + 4 + uvarintLen(uint64(n)) + n }

// encoder builds one batch in place: records are copied in as they come, so
// the writer holds one buffer per batch and no per-record copies.
type encoder struct {
	buf   []byte
	count uint32
}

// begin starts a batch whose first record is first, reusing the buffer.
func (e *encoder) begin(first uint64) {
	e.buf = append(e.buf[:0], magic...)
	e.buf = binary.BigEndian.AppendUint16(e.buf, version)
	e.buf = binary.BigEndian.AppendUint64(e.buf, first)
	e.buf = binary.BigEndian.AppendUint32(e.buf, 0) // count, set by finish
	e.count = 0
}

func (e *encoder) add(kind uint16, actor uint32, payload []byte) {
	e.buf = binary.BigEndian.AppendUint16(e.buf, kind)
	e.buf = binary.BigEndian.AppendUint32(e.buf, actor)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(payload)))
	e.buf = append(e.buf, payload...)
	e.count++
}

// size is the batch's size once finished.
func (e *encoder) size() int { return len(e.buf) + trailerSize }

// finish writes the count and the checksum and returns the batch.
func (e *encoder) finish() []byte {
	binary.BigEndian.PutUint32(e.buf[offCount:], e.count)
	e.buf = binary.BigEndian.AppendUint32(e.buf, crc32.Checksum(e.buf, castagnoli))
	return e.buf
}

// EncodeBatch appends to dst one batch holding recs, numbered from first
// (their Seq fields are ignored). It is the writer's format, for tools and
// tests; recs must not be empty.
func EncodeBatch(dst []byte, first uint64, recs []Record) []byte {
	var e encoder
	e.begin(first)
	for _, r := range recs {
		e.add(r.Kind, r.Actor, r.Payload)
	}
	return append(dst, e.finish()...)
}
