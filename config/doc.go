// Package config owns the exchange's config file (API.md "Config file"):
// loading it, rejecting what it cannot mean (unknown fields, duplicate
// symbols, bad users) and the defaults used without one.
//
//	{"symbols":[SymbolConfig...], "margin_mode":"cross",
//	 "users":[{"user","password"|"nkey","account","admin"}],
//	 "rate_limit":{"orders_per_s":1000,"burst":1000}}
//
// Every top-level field is optional:
//   - symbols: missing means the demo symbols of Demo (BTC-PERP, ETH-PERP);
//     omitted fields inside a symbol get market.SymbolConfig.Compile's
//     defaults, which also checks every value and names the bad field;
//   - margin_mode: "cross" (default) or "isolated", the margin mode of every
//     account's positions;
//   - users: missing means no authorization; otherwise every user needs a
//     token-safe name and exactly one of password (plain or a bcrypt hash
//     "$2a$...", as nats-server accepts) and nkey (a user public key "U...");
//     a trader needs an account, an admin may omit it;
//   - rate_limit: per account, default DefaultRateLimit; orders_per_s 0 turns
//     it off, burst 0 means one second's worth.
package config
