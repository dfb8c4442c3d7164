// Package web owns the trading page: its static files (plain HTML, CSS and
// JavaScript, with the browser libraries copied from npm under
// static/vendor by `go generate ./web`, and committed, so building the
// exchange needs no Node) embedded in the binary, and the HTTP handler that
// serves them with the page's config (/config.json: where the NATS
// WebSocket listener is, whether login is needed, the symbols' public
// config). The page itself is a NATS client over WebSocket that speaks
// API.md like any other; this package decides no exchange rule.
package web
