package binance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/perpx/perpx/config"
	"github.com/perpx/perpx/wire"
)

// Signed requests, as Binance checks them:
//   - X-MBX-APIKEY names a key (-2014 when it is no key's form, -2015 when no
//     user has it);
//   - timestamp (ms) is required, recvWindow defaults to 5000 and is at most
//     60000; the request is refused -1021 unless
//     timestamp < now + 1000 and now − timestamp ≤ recvWindow
//     (a request replayed later than its window is refused so);
//   - signature is the hex HMAC-SHA256, keyed by the secret, of the query
//     string concatenated with the body, as sent, without the signature
//     parameter itself (hex in either case).
const (
	defaultRecvWindow = 5000
	maxRecvWindow     = 60000
	// aheadMs is how far a timestamp may be ahead of the server's clock.
	aheadMs = 1000
)

// apiKey is one key's account and secret.
type apiKey struct {
	account string
	secret  []byte
}

// keyring holds the configured keys; open (no users) makes the API key the
// account's name and accepts any signature, as the open NATS server lets
// any client act for any account.
type keyring struct {
	open bool
	keys map[string]apiKey
}

func newKeyring(users []config.User) keyring {
	k := keyring{open: len(users) == 0, keys: map[string]apiKey{}}
	for _, u := range users {
		if u.APIKey != "" {
			k.keys[u.APIKey] = apiKey{account: u.Account, secret: []byte(u.APISecret)}
		}
	}
	return k
}

// lookup finds the key named by the X-MBX-APIKEY header.
func (k keyring) lookup(header string) (apiKey, *apiError) {
	if !config.ValidAPIKey(header) { // an absent one too, as Binance
		return apiKey{}, errKeyFormat
	}
	if k.open {
		if !wire.ValidToken(header) {
			return apiKey{}, errRejectedKey
		}
		return apiKey{account: header}, nil
	}
	key, ok := k.keys[header]
	if !ok {
		return apiKey{}, errRejectedKey
	}
	return key, nil
}

// checkSigned verifies a signed request: rawQuery and body as received,
// params their merged values, nowMs the server's clock.
func (k keyring) checkSigned(key apiKey, rawQuery, body string, params map[string][]string, nowMs int64) *apiError {
	ts, ok := first(params, "timestamp")
	if !ok {
		return mandatory("timestamp")
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || t <= 0 {
		return mandatory("timestamp")
	}
	window := int64(defaultRecvWindow)
	if rw, ok := first(params, "recvWindow"); ok {
		w, err := strconv.ParseInt(rw, 10, 64)
		digits := rw != "" && len(rw) <= 20 && strings.Trim(rw, "0123456789") == ""
		if !digits || err == nil && w <= 0 {
			return illegal("recvWindow", "^[0-9]{1,20}$")
		}
		if err != nil || w > maxRecvWindow { // digits too many for int64 are too large too
			return errf(400, codeBadRecvWindow, "recvWindow must be less than %d", maxRecvWindow)
		}
		window = w
	}
	sig, ok := first(params, "signature")
	if !ok {
		return mandatory("signature")
	}
	if !wellSplit(rawQuery) || !wellSplit(body) {
		// Binance signs query and body run together, so a captured request
		// could be split again inside a value (a client order id cut short
		// dodges the duplicate check): every part must be a name=value.
		return errSignature
	}
	if !k.open {
		want := signature(key.secret, unsigned(rawQuery)+unsigned(body))
		if !hmac.Equal([]byte(strings.ToLower(sig)), []byte(want)) {
			return errSignature
		}
	}
	if t >= nowMs+aheadMs {
		return errf(400, codeTimestamp, "Timestamp for this request was %dms ahead of the server's time.", aheadMs)
	}
	if nowMs-t > window {
		return errf(400, codeTimestamp, "Timestamp for this request is outside of the recvWindow.")
	}
	return nil
}

// signature is the lower-case hex HMAC-SHA256 of payload keyed by secret.
func signature(secret []byte, payload string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// unsigned is a query string or form body without its signature parameter,
// byte for byte as sent otherwise.
func unsigned(raw string) string {
	if !strings.Contains(raw, "signature=") {
		return raw
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		if !strings.HasPrefix(p, "signature=") {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}

// wellSplit reports whether every &-separated part of raw is name=value
// with a name: where a client splits its signed parameters between query
// and body, both sides are.
func wellSplit(raw string) bool {
	if raw == "" {
		return true
	}
	for p := range strings.SplitSeq(raw, "&") {
		if strings.IndexByte(p, '=') <= 0 {
			return false
		}
	}
	return true
}

// first is the first value of name in params.
func first(params map[string][]string, name string) (string, bool) {
	v := params[name]
	if len(v) == 0 || v[0] == "" {
		return "", false
	}
	return v[0], true
}
