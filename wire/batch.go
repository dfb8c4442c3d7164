package wire

import "encoding/json"

// Batch bounds: a market maker requotes a few levels a side in one message;
// every item may be as large as a single request.
const (
	MaxBatchItems   = 20
	MaxBatchPayload = 64 << 10
)

// BatchItem is one item of <prefix>.acct.<acct>.order.batch: a place or a
// cancel, decoded exactly as the single request's body would be.
type BatchItem struct {
	Endpoint Endpoint // EpOrderPlace or EpOrderCancel
	Place    PlaceOrder
	Cancel   Cancel
	// Err is the code the body would get sent alone; such an item is
	// answered with it and not executed, the others still are.
	Err *Error
}

// DecodeBatch decodes {"orders":[{"place":{..}}|{"cancel":{..}},..]}. The
// batch's own shape (one to MaxBatchItems items, each an object with exactly
// one known key whose value is an object) is BAD_REQUEST for the whole
// batch; an item's body is judged per item by DecodePlace or DecodeCancel.
func DecodeBatch(data []byte) ([]BatchItem, *Error) {
	if items, ok := decodeBatchFast(data); ok {
		return items, nil
	}
	return decodeBatchSlow(data)
}

func batchItem(key string, body []byte) BatchItem {
	if key == "cancel" {
		c, err := DecodeCancel(body)
		return BatchItem{Endpoint: EpOrderCancel, Cancel: c, Err: err}
	}
	p, err := DecodePlace(body)
	return BatchItem{Endpoint: EpOrderPlace, Place: p, Err: err}
}

// object parses a raw JSON object into dst, leaving its decoding to later.
func object(dst *[]byte) parser {
	return func(name string, raw []byte) *Error {
		if raw[0] != '{' {
			return wrongType(name, "an object")
		}
		*dst = raw
		return nil
	}
}

// decodeBatchSlow is DecodeBatch by decodeObject: the reference decoder.
func decodeBatchSlow(data []byte) ([]BatchItem, *Error) {
	var raws []json.RawMessage
	err := decodeObjectUpTo(data, MaxBatchPayload, []field{{"orders", true, func(name string, raw []byte) *Error {
		if raw[0] != '[' {
			return wrongType(name, "an array")
		}
		if err := json.Unmarshal(raw, &raws); err != nil {
			return badJSON(err)
		}
		return nil
	}}})
	if err != nil {
		return nil, err
	}
	if len(raws) == 0 || len(raws) > MaxBatchItems {
		return nil, Errorf(CodeBadRequest, "a batch has 1-%d orders, not %d", MaxBatchItems, len(raws))
	}
	items := make([]BatchItem, len(raws))
	for i, raw := range raws {
		var place, cancel []byte
		if err := decodeObjectUpTo(raw, MaxBatchPayload, []field{{"place", false, object(&place)}, {"cancel", false, object(&cancel)}}); err != nil {
			return nil, Errorf(CodeBadRequest, "order %d: %s", i, err.Message)
		}
		switch {
		case (place == nil) == (cancel == nil):
			return nil, Errorf(CodeBadRequest, `order %d: give exactly one of "place" and "cancel"`, i)
		case place != nil:
			items[i] = batchItem("place", place)
		default:
			items[i] = batchItem("cancel", cancel)
		}
	}
	return items, nil
}

// decodeBatchFast is decodeBatchSlow for the batches clients send: valid
// JSON whose keys carry no escapes, with one to MaxBatchItems items. It
// only splits the array; ok is false for anything else, which
// decodeBatchSlow then decodes or words the error of.
func decodeBatchFast(data []byte) (items []BatchItem, ok bool) {
	if len(data) > MaxBatchPayload || !json.Valid(data) {
		return nil, false
	}
	i, ok := expect(data, skipSpace(data, 0), '{')
	if ok {
		i, ok = expectKey(data, i, "orders")
	}
	if ok {
		i, ok = expect(data, i, '[')
	}
	for ok && len(items) < MaxBatchItems {
		var key []byte
		if i, ok = expect(data, i, '{'); ok {
			key, i, ok = scanString(data, i)
		}
		if !ok {
			return nil, false
		}
		if i, ok = expect(data, skipSpace(data, i), ':'); !ok || i == len(data) || data[i] != '{' {
			return nil, false
		}
		n := ObjectEnd(data[i:])
		if n < 0 {
			return nil, false
		}
		end := i + n
		switch string(key) {
		case "place", "cancel":
			items = append(items, batchItem(string(key), data[i:end]))
		default:
			return nil, false
		}
		if i, ok = expect(data, skipSpace(data, end), '}'); ok && i < len(data) && data[i] == ']' {
			i, _ = expect(data, i, ']')
			i, ok = expect(data, i, '}')
			return items, ok && i == len(data)
		}
		i, ok = expect(data, i, ',')
	}
	return nil, false
}

// expect returns the index after the byte c at data[i] and any space that
// follows it.
func expect(data []byte, i int, c byte) (int, bool) {
	if i >= len(data) || data[i] != c {
		return i, false
	}
	return skipSpace(data, i+1), true
}

// expectKey reads the member name key and its colon at data[i].
func expectKey(data []byte, i int, key string) (int, bool) {
	k, i, ok := scanString(data, i)
	if !ok || string(k) != key {
		return i, false
	}
	return expect(data, skipSpace(data, i), ':')
}

// ObjectEnd returns the length of the JSON object at the start of b,
// skipping strings and nested values, or -1 if b does not start with a
// complete object. It splits arrays of objects (batch items, batch
// results) without decoding them.
func ObjectEnd(b []byte) int {
	if len(b) == 0 || b[0] != '{' {
		return -1
	}
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}
