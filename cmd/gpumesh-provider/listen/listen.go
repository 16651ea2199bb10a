// Package listen opens the sidecar's TCP listeners (API gRPC, REST,
// metrics) with the limits every one of them needs: loopback unless the
// operator opts in, a bound on open connections, and HTTP servers with
// read, write and idle timeouts.
package listen

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// IsLoopback reports whether addr (host:port) binds only the loopback
// interface: localhost or a loopback IP. An empty host (":9470") binds
// every interface; other host names are not resolved and count as remote.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckLoopback refuses a non-loopback addr unless allowRemote is set;
// field and optIn name the config keys in the error.
func CheckLoopback(field, addr string, allowRemote bool, optIn string) error {
	if addr == "" || allowRemote || IsLoopback(addr) {
		return nil
	}
	return fmt.Errorf("%s: %q is not a loopback address; the sidecar's listeners have no TLS and no "+
		"authentication, so bind 127.0.0.1 and put a TLS proxy in front (docs/provider.md), or set %s: true "+
		"to expose it on purpose", field, addr, optIn)
}

// Listen opens a TCP listener on addr that holds at most maxConns open
// connections (0 = no limit); field names the config key in errors.
func Listen(field, addr string, maxConns int) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", field, addr, err)
	}
	return Limit(ln, maxConns), nil
}

// Limit wraps ln so that at most max connections are open at once (0 or
// less = no limit). A connection accepted beyond the limit is closed at
// once: the client sees its connection refused instead of waiting
// unseen in the kernel's backlog, and an idle flood costs no memory.
func Limit(ln net.Listener, limit int) net.Listener {
	if limit <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: limit}
}

type limitListener struct {
	net.Listener
	max  int
	mu   sync.Mutex
	open int
}

// Accept returns the next connection within the limit, closing those
// beyond it.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.open >= l.max {
			l.mu.Unlock()
			_ = c.Close()
			continue
		}
		l.open++
		l.mu.Unlock()
		return &limitConn{Conn: c, release: l.release}, nil
	}
}

func (l *limitListener) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// HTTPLimits bound what one HTTP client may hold on the server.
type HTTPLimits struct {
	// ReadHeaderTimeout cuts a client that sends its headers too slowly
	// (slowloris).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection without a request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers.
	MaxHeaderBytes int
}

// DefaultHTTPLimits suit a read-only API and a metrics endpoint: requests
// have no body, responses are small (a scrape of a few hundred series).
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
}

// Server returns an HTTP server for h with the limits.
func (l HTTPLimits) Server(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes}
}
