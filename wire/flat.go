package wire

import (
	"sync/atomic"

	"github.com/shopspring/decimal"
)

// The fast path of the hot decoders (DecodePlace, DecodeCancel): a
// single-pass scanner for the flat objects clients actually send. It only
// ever accepts; whatever it does not handle (escapes, numbers, nested
// values, null, unknown or repeated keys, wrong types, missing fields, bad
// JSON)
// goes to decodeObject, which stays the reference and words the error, so
// correctness never depends on the fast path (FuzzDecodePlaceFast holds the
// two to the same results).

// flatKind is the JSON type of a member value the scanner handles.
type flatKind uint8

const (
	flatAbsent flatKind = iota // not given
	flatString
	flatTrue
	flatFalse
)

// flatValue is one member value: for a string, its bytes without the quotes
// (they contain no escapes), aliasing the input.
type flatValue struct {
	kind flatKind
	str  []byte
}

// flatSchema is the key set of a decoder's []field.
type flatSchema struct {
	names    []string
	required uint64 // bit i: names[i] must be given
}

// schemaOf takes the names and required flags of fields (at most 64).
func schemaOf(fields []field) flatSchema {
	s := flatSchema{names: make([]string, len(fields))}
	for i, f := range fields {
		s.names[i] = f.name
		if f.required {
			s.required |= 1 << i
		}
	}
	return s
}

func (s *flatSchema) index(key []byte) int {
	for i, n := range s.names {
		if n == string(key) {
			return i
		}
	}
	return -1
}

// scan fills vals (zeroed, len(s.names)) by key index if data is one JSON
// object, without trailing data, of known keys given at most once, whose
// values are escape-free strings or booleans, with every required key
// given. It reports false for anything else (null included: decodeObject
// refuses it), and the caller must then use decodeObject.
func (s *flatSchema) scan(data []byte, vals []flatValue) bool {
	if len(data) > MaxPayload {
		return false
	}
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return false
	}
	var seen uint64
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			key, next, ok := scanString(data, i)
			if !ok {
				return false
			}
			k := s.index(key)
			if k < 0 || seen&(1<<k) != 0 {
				return false
			}
			seen |= 1 << k
			i = skipSpace(data, next)
			if i == len(data) || data[i] != ':' {
				return false
			}
			if i = skipSpace(data, i+1); i == len(data) {
				return false
			}
			v := &vals[k]
			switch data[i] {
			case '"':
				if v.str, i, ok = scanString(data, i); !ok {
					return false
				}
				v.kind = flatString
			default:
				if v.kind, i, ok = scanLiteral(data, i); !ok {
					return false
				}
			}
			if i = skipSpace(data, i); i == len(data) {
				return false
			}
			if data[i] == '}' {
				i++
				break
			}
			if data[i] != ',' {
				return false
			}
			i = skipSpace(data, i+1)
		}
	}
	return skipSpace(data, i) == len(data) && seen&s.required == s.required
}

// skipSpace returns the index of the first non-JSON-whitespace byte at or
// after i.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
		i++
	}
	return i
}

// scanString reads the string starting at data[i] (a '"'), returning its
// contents and the index after the closing quote; escapes and control
// characters are not handled.
func scanString(data []byte, i int) (str []byte, next int, ok bool) {
	if i == len(data) || data[i] != '"' {
		return nil, i, false
	}
	j := i + 1
	for j < len(data) && !stringStop[data[j]] {
		j++
	}
	if j == len(data) || data[j] != '"' {
		return nil, i, false
	}
	return data[i+1 : j], j + 1, true
}

// stringStop marks the bytes that end scanString's run: the closing quote,
// a backslash and the control characters.
var stringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanLiteral reads true or false at data[i], returning its kind and the
// index after it; null is not handled.
func scanLiteral(data []byte, i int) (kind flatKind, next int, ok bool) {
	for _, l := range [...]struct {
		lit  string
		kind flatKind
	}{{"true", flatTrue}, {"false", flatFalse}} {
		if end := i + len(l.lit); end <= len(data) && string(data[i:end]) == l.lit {
			return l.kind, end, true
		}
	}
	return flatAbsent, i, false
}

// The binders below mirror the parsers of decode.go: each leaves dst alone
// for an absent value and reports false where the parser would fail.

func (v flatValue) token(dst *string) bool { return v.chars(dst, false) }

// clientID is token for a client order id (ValidClientID).
func (v flatValue) clientID(dst *string) bool { return v.chars(dst, true) }

func (v flatValue) chars(dst *string, id bool) bool {
	switch v.kind {
	case flatAbsent:
		return true
	case flatString:
		if validChars(v.str, id) {
			*dst = string(v.str)
			return true
		}
	}
	return false
}

// internedToken is token for a field with few distinct values (a
// symbol): the string is shared from internTokens instead of allocated.
func (v flatValue) internedToken(dst *string) bool {
	if v.kind != flatString || !validToken(v.str) {
		return v.token(dst)
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range v.str {
		h = (h ^ uint32(c)) * 16777619
	}
	e := &internTokens[h%uint32(len(internTokens))]
	if s := e.Load(); s != nil && *s == string(v.str) {
		*dst = *s
		return true
	}
	s := string(v.str)
	e.Store(&s)
	*dst = s
	return true
}

// internTokens holds the strings internedToken shares, direct-mapped by
// hash.
var internTokens [256]atomic.Pointer[string]

func (v flatValue) decimal(dst *decimal.Decimal) bool {
	switch v.kind {
	case flatAbsent:
		return true
	case flatString:
		d, ok := parseDecimal(v.str)
		if ok {
			*dst = d
		}
		return ok
	}
	return false
}

func (v flatValue) boolean(dst *bool) bool {
	switch v.kind {
	case flatAbsent:
		return true
	case flatTrue, flatFalse:
		*dst = v.kind == flatTrue
		return true
	}
	return false
}

func flatEnum[T ~string](v flatValue, dst *T, allowed ...T) bool {
	if v.kind == flatAbsent {
		return true
	}
	if v.kind == flatString {
		for _, a := range allowed {
			if string(v.str) == string(a) {
				*dst = a
				return true
			}
		}
	}
	return false
}
