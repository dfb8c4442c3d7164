package loadtest

import (
	"bytes"
	"encoding/json"

	"github.com/perpx/perpx/wire"
)

// CodeBadReply counts replies that are not a reply envelope at all; it is
// not a wire code, so it can never be confused with one.
const CodeBadReply = "UNPARSABLE_REPLY"

// outcome is what a reply says: ok with the order's status, or the error
// code. Strings are interned constants, so counting them does not allocate.
type outcome struct {
	ok     bool
	code   string
	status wire.Status
}

var (
	okPrefix    = []byte(`{"ok":true`)
	failPrefix  = []byte(`{"ok":false`)
	codeKey     = []byte(`"code":"`)
	statusKey   = []byte(`"status":"`)
	knownCodes  = wire.Codes()
	knownStatus = []wire.Status{wire.StatusNew, wire.StatusPartiallyFilled, wire.StatusFilled,
		wire.StatusCanceled, wire.StatusRejected, wire.StatusExpired}
)

// classify reads a reply. The fast path handles the exchange's own encoders
// (fields in schema order, no spaces); anything else goes through
// encoding/json, so a differently spaced reply is still read right.
func classify(data []byte) outcome {
	if bytes.HasPrefix(data, okPrefix) {
		return outcome{ok: true, status: internStatus(stringAfter(data, statusKey))}
	}
	if bytes.HasPrefix(data, failPrefix) {
		if c := stringAfter(data, codeKey); len(c) > 0 {
			return outcome{code: internCode(c)}
		}
	}
	var r struct {
		OK    *bool       `json:"ok"`
		Error *wire.Error `json:"error"`
		Order *struct {
			Status string `json:"status"`
		} `json:"order"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.OK == nil {
		return outcome{code: CodeBadReply}
	}
	if !*r.OK {
		if r.Error == nil || r.Error.Code == "" {
			return outcome{code: CodeBadReply}
		}
		return outcome{code: internCode([]byte(r.Error.Code))}
	}
	o := outcome{ok: true}
	if r.Order != nil {
		o.status = internStatus([]byte(r.Order.Status))
	}
	return o
}

// stringAfter returns the JSON string value following key, nil if none.
func stringAfter(data, key []byte) []byte {
	i := bytes.Index(data, key)
	if i < 0 {
		return nil
	}
	v := data[i+len(key):]
	if j := bytes.IndexByte(v, '"'); j >= 0 {
		return v[:j]
	}
	return nil
}

func internCode(b []byte) string {
	for _, c := range knownCodes {
		if string(c) == string(b) {
			return string(c)
		}
	}
	return string(b) // a code this client does not know yet: still counted
}

func internStatus(b []byte) wire.Status {
	for _, s := range knownStatus {
		if string(s) == string(b) {
			return s
		}
	}
	if len(b) == 0 {
		return ""
	}
	return wire.Status(b)
}
