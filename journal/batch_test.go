package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// sample is a batch of three records from sequence 41, the middle one empty.
func sample() []byte {
	return EncodeBatch(nil, 41, []Record{
		{Kind: 1, Actor: 7, Payload: []byte("place")},
		{Kind: 2, Actor: 0xffffffff},
		{Kind: 0xffff, Actor: 3, Payload: bytes.Repeat([]byte{0xab}, 300)},
	})
}

func records(t *testing.T, b Batch) []Record {
	t.Helper()
	var out []Record
	for r := range b.Records() {
		out = append(out, r)
	}
	if len(out) != b.Count {
		t.Fatalf("%d records yielded, count %d", len(out), b.Count)
	}
	return out
}

func TestBatchRoundTrip(t *testing.T) {
	data := sample()
	b, err := DecodeBatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if b.First != 41 || b.Count != 3 || b.Last() != 43 {
		t.Fatalf("header %+v", b)
	}
	got := records(t, b)
	if got[0].Seq != 41 || got[0].Kind != 1 || got[0].Actor != 7 || string(got[0].Payload) != "place" ||
		got[1].Seq != 42 || got[1].Actor != 0xffffffff || len(got[1].Payload) != 0 ||
		got[2].Seq != 43 || got[2].Kind != 0xffff || len(got[2].Payload) != 300 {
		t.Fatalf("records %+v", got)
	}
	// A payload cannot be grown over its neighbour.
	if cap(got[0].Payload) != len(got[0].Payload) {
		t.Fatal("payload capacity reaches past its record")
	}
	if again := EncodeBatch([]byte("x"), b.First, got); !bytes.Equal(again[1:], data) || again[0] != 'x' {
		t.Fatal("re-encoding differs")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = DecodeBatch(data) }); n != 0 {
		t.Fatalf("DecodeBatch allocates %v", n)
	}
}

// reseal recomputes the trailer so a test reaches the checks behind it.
func reseal(data []byte) []byte {
	body := data[:len(data)-trailerSize]
	binary.BigEndian.PutUint32(data[len(body):], crc32.Checksum(body, castagnoli))
	return data
}

func TestDecodeBatchRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want error
		says string
	}{
		{"empty", func([]byte) []byte { return nil }, ErrCorrupt, "0 bytes"},
		{"truncated", func(d []byte) []byte { return d[:len(d)-1] }, ErrCorrupt, "checksum"},
		{"flipped bit", func(d []byte) []byte { d[30] ^= 1; return d }, ErrCorrupt, "checksum"},
		{"magic", func(d []byte) []byte { d[0] = 'X'; return d }, ErrCorrupt, "magic"},
		{"version", func(d []byte) []byte { d[offVersion+1] = 2; return reseal(d) }, ErrVersion, "version 2"},
		{"first 0", func(d []byte) []byte { binary.BigEndian.PutUint64(d[offFirst:], 0); return reseal(d) }, ErrCorrupt, "first sequence 0"},
		{"overflow", func(d []byte) []byte { binary.BigEndian.PutUint64(d[offFirst:], maxSeq-1); return reseal(d) }, ErrCorrupt, "overflow"},
		{"no records", func(d []byte) []byte { binary.BigEndian.PutUint32(d[offCount:], 0); return reseal(d) }, ErrCorrupt, "no records"},
		{"count too big", func(d []byte) []byte { binary.BigEndian.PutUint32(d[offCount:], 1<<31); return reseal(d) }, ErrCorrupt, "cannot fit"},
		{"count one more", func(d []byte) []byte { binary.BigEndian.PutUint32(d[offCount:], 4); return reseal(d) }, ErrCorrupt, "record 4 of 4"},
		{"count one less", func(d []byte) []byte { binary.BigEndian.PutUint32(d[offCount:], 2); return reseal(d) }, ErrCorrupt, "after the last record"},
		{"length past end", func(d []byte) []byte { d[headerSize+12+7+6]++; return reseal(d) }, ErrCorrupt, "record 3 of 3: length 301, 300 bytes left"},
		{"length padded", func(d []byte) []byte {
			// 5 as a two-byte uvarint (0x85 0x00): same value, second encoding.
			i := headerSize + 6
			d = append(d[:i+1], d[i:]...)
			d[i], d[i+1] = 0x85, 0x00
			return reseal(d)
		}, ErrCorrupt, "not minimally"},
		{"length overflows", func(d []byte) []byte {
			i := headerSize + 6
			d = append(d[:i], append(bytes.Repeat([]byte{0xff}, 10), d[i+1:]...)...)
			return reseal(d)
		}, ErrCorrupt, "bad length"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeBatch(c.edit(sample()))
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(sample())
	f.Add(EncodeBatch(nil, 1, []Record{{}}))
	f.Add(EncodeBatch(nil, maxSeq, []Record{{Kind: 9, Actor: 9, Payload: []byte{0}}}))
	f.Add(EncodeBatch(nil, 1<<40, []Record{{Payload: make([]byte, 200)}, {Payload: make([]byte, 127)}, {Payload: make([]byte, 128)}}))
	f.Add([]byte(magic + "\x00\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
		// Most mutations break the checksum; fixing it lets the fuzzer
		// explore the header and records behind it too.
		if len(data) >= minBatchSize {
			check(t, reseal(bytes.Clone(data)))
		}
	})
}

// check decodes data; a batch it accepts must yield dense records and
// encode back to the same bytes.
func check(t *testing.T, data []byte) {
	b, err := DecodeBatch(data)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
			t.Fatalf("uncoded error %v", err)
		}
		return
	}
	recs := records(t, b)
	for i, r := range recs {
		if r.Seq != b.First+uint64(i) {
			t.Fatalf("record %d has seq %d, first %d", i, r.Seq, b.First)
		}
	}
	if again := EncodeBatch(nil, b.First, recs); !bytes.Equal(again, data) {
		t.Fatalf("accepted %x, encodes back as %x", data, again)
	}
}
