package wire

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"

	"github.com/shopspring/decimal"
)

// MaxPayload is the largest request body accepted; anything bigger is
// BAD_REQUEST before it is parsed.
const MaxPayload = 4 << 10

// parser stores one raw JSON value (never null: scanObject refuses it)
// into its destination.
type parser func(name string, raw []byte) *Error

// field is one key a request object may carry.
type field struct {
	name     string
	required bool
	parse    parser
}

// decodeObject checks data is a single JSON object whose keys are among
// fields, each at most once and none null, with every required one present,
// and hands each value to its parser. Only an empty payload stands for {}:
// a body of whitespace alone is refused, as is a null member (a client that
// means "no symbol" leaves the key out; one that sends null has a bug, and
// guessing would turn a cancel of one symbol into a cancel of all).
func decodeObject(data []byte, fields []field) *Error {
	return decodeObjectUpTo(data, MaxPayload, fields)
}

// decodeObjectUpTo is decodeObject for payloads of at most limit bytes.
func decodeObjectUpTo(data []byte, limit int, fields []field) *Error {
	if len(data) > limit {
		return Errorf(CodeBadRequest, "payload of %d bytes exceeds %d", len(data), limit)
	}
	if len(fields) > 64 {
		return Errorf(CodeInternal, "decoder with %d fields", len(fields))
	}
	var set uint64
	if len(data) > 0 {
		if len(bytes.TrimSpace(data)) == 0 {
			return Errorf(CodeBadRequest, "a body of only whitespace is not a request: send an empty payload or {}")
		}
		var err *Error
		if set, err = scanObject(data, fields); err != nil {
			return err
		}
	}
	for i, f := range fields {
		if f.required && set&(1<<i) == 0 {
			return Errorf(CodeBadRequest, "missing field %q", f.name)
		}
	}
	return nil
}

// scanObject returns the bit set of fields given; a null value is refused.
func scanObject(data []byte, fields []field) (set uint64, _ *Error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return 0, badJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return 0, Errorf(CodeBadRequest, "request must be a JSON object")
	}
	var seen uint64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, badJSON(err)
		}
		key, _ := tok.(string) // inside an object a token is always a key
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, badJSON(err)
		}
		i := fieldIndex(fields, key)
		if i < 0 {
			return 0, Errorf(CodeBadRequest, "unknown field %.64q", key)
		}
		if seen&(1<<i) != 0 {
			return 0, Errorf(CodeBadRequest, "field %q given twice", key)
		}
		seen |= 1 << i
		if string(raw) == "null" {
			return 0, Errorf(CodeBadRequest, "field %q is null: leave it out instead", key)
		}
		if e := fields[i].parse(key, raw); e != nil {
			return 0, e
		}
		set |= 1 << i
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return 0, badJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return 0, Errorf(CodeBadRequest, "trailing data after the JSON object")
	}
	return set, nil
}

func fieldIndex(fields []field, key string) int {
	for i := range fields {
		if fields[i].name == key {
			return i
		}
	}
	return -1
}

func badJSON(err error) *Error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return Errorf(CodeBadRequest, "invalid JSON: unexpected end of input")
	}
	return Errorf(CodeBadRequest, "invalid JSON: %v", err)
}

func wrongType(name, want string) *Error {
	return Errorf(CodeBadRequest, "field %q must be %s", name, want)
}

// jsonString decodes raw if it is a JSON string.
func jsonString(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// clientID parses a client order id: see ValidClientID.
func clientID(dst *string) parser { return chars(dst, true) }

// token parses an id-like string: see ValidToken.
func token(dst *string) parser { return chars(dst, false) }

// chars parses a string of token characters (with id, client order id ones).
func chars(dst *string, id bool) parser {
	set := "[A-Za-z0-9_-]"
	if id {
		set = "[A-Za-z0-9_.:/-]"
	}
	return func(name string, raw []byte) *Error {
		s, ok := jsonString(raw)
		if !ok {
			return wrongType(name, "a string")
		}
		if !validChars(s, id) {
			return Errorf(CodeBadRequest, "field %q: %.80q must be 1-%d characters of %s", name, s, MaxTokenLen, set)
		}
		*dst = s
		return nil
	}
}

// dec parses a decimal string; sign and range checks are the caller's, as
// their codes differ by field.
func dec(dst *decimal.Decimal) parser {
	return func(name string, raw []byte) *Error {
		s, ok := jsonString(raw)
		if !ok {
			return wrongType(name, `a decimal string such as "1.5"`)
		}
		d, ok := ParseDecimal(s)
		if !ok {
			return Errorf(CodeBadRequest, "field %q: %.40q is not a plain decimal of at most %d characters", name, s, MaxDecimalLen)
		}
		*dst = d
		return nil
	}
}

func boolean(dst *bool) parser {
	return func(name string, raw []byte) *Error {
		switch string(raw) {
		case "true":
			*dst = true
		case "false":
			*dst = false
		default:
			return wrongType(name, "true or false")
		}
		return nil
	}
}

// integer parses a JSON integer number in [lo, hi].
func integer(dst *int, lo, hi int) parser {
	return func(name string, raw []byte) *Error {
		n, err := strconv.Atoi(string(raw)) // rejects fractions, exponents and strings
		if err != nil || n < lo || n > hi {
			return Errorf(CodeBadRequest, "field %q must be an integer from %d to %d", name, lo, hi)
		}
		*dst = n
		return nil
	}
}

// enum parses a string that must be one of allowed, matched exactly.
func enum[T ~string](dst *T, allowed ...T) parser {
	return func(name string, raw []byte) *Error {
		s, ok := jsonString(raw)
		if ok {
			for _, a := range allowed {
				if T(s) == a {
					*dst = a
					return nil
				}
			}
		}
		return Errorf(CodeBadRequest, "field %q must be one of %q", name, allowed)
	}
}

// present records that a field was given before parsing it.
func present(flag *bool, p parser) parser {
	return func(name string, raw []byte) *Error {
		*flag = true
		return p(name, raw)
	}
}
