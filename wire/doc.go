// Package wire owns the JSON wire contract of API.md: the request, reply and
// stream payload schemas, the error codes, the subject scheme under a prefix
// (default "px") and strict request decoding. It is the leaf package shared by
// the NATS gateway and the load-test client, so it imports only the standard
// library and decimal: no NATS, no cores.
//
// Decoding policy (DecodePlace and friends):
//   - a payload over MaxPayload bytes, unparsable JSON, a non-object, trailing
//     data, a wrong JSON type, an unknown field or a repeated field is
//     BAD_REQUEST: an ignored typo such as "reduceOnly" would silently change
//     what an order does, so unknown fields are refused, not dropped;
//   - keys match exactly (encoding/json would match case-insensitively);
//   - null counts as absent; an empty payload counts as {};
//   - decimals are JSON strings matching ^-?[0-9]+(\.[0-9]+)?$ of at most
//     MaxDecimalLen characters; tick, lot and range checks belong to risk;
//   - a zero or negative price is INVALID_PRICE, quantity INVALID_QTY.
package wire
