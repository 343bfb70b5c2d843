package pbx

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// tcpIdleTimeout closes a SIP TCP connection that has carried nothing
	// for this long before any request on it authenticated: scanners
	// and abandoned sockets hold a file descriptor and a goroutine each.
	tcpIdleTimeout = 30 * time.Second
	// tcpConnsPerAddr caps connections from one address (an IPv6 /64);
	// an office NAT with every phone on TCP stays well under it.
	tcpConnsPerAddr = 128
)

// tcpListener is the SIP TCP listener, closing idle connections and
// refusing connections beyond a cap per address before sipgo sees them.
type tcpListener struct {
	net.Listener
	mu      sync.Mutex
	idle    time.Duration
	perAddr int
	byHost  map[string]int
	byAddr  map[string]*idleConn // by remote host:port, as req.Source() says it
}

func guardTCP(l net.Listener) *tcpListener {
	return &tcpListener{Listener: l, idle: tcpIdleTimeout, perAddr: tcpConnsPerAddr,
		byHost: make(map[string]int), byAddr: make(map[string]*idleConn)}
}

func (l *tcpListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := c.RemoteAddr().String()
		host := hostOf(addr)
		l.mu.Lock()
		if l.byHost[host] >= l.perAddr {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.byHost[host]++
		ic := &idleConn{Conn: c, l: l, host: host, addr: addr}
		ic.idle.Store(int64(l.idle))
		l.byAddr[addr] = ic
		l.mu.Unlock()
		return ic, nil
	}
}

// keep lets the connection from source stay idle for up to d: a phone
// that authenticated on it may say nothing until it next re-registers,
// and its connection is the only way to reach it behind NAT.
func (l *tcpListener) keep(source string, d time.Duration) {
	l.mu.Lock()
	c := l.byAddr[source]
	l.mu.Unlock()
	if c != nil && int64(d) > c.idle.Load() {
		c.idle.Store(int64(d))
		// The read in progress has the old deadline.
		c.Conn.SetReadDeadline(time.Now().Add(d))
	}
}

// idleConn ends a read that waited longer than its idle time as the
// peer closing the connection would (sipgo then drops it quietly).
type idleConn struct {
	net.Conn
	l          *tcpListener
	host, addr string
	idle       atomic.Int64 // time.Duration
	closeOnce  sync.Once
}

func (c *idleConn) Read(b []byte) (int, error) {
	for {
		idle := c.idle.Load()
		c.Conn.SetReadDeadline(time.Now().Add(time.Duration(idle)))
		n, err := c.Conn.Read(b)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if n > 0 || c.idle.Load() == idle {
			return n, io.EOF
		}
		// keep lengthened the idle time while this read waited.
	}
}

func (c *idleConn) Close() error {
	c.closeOnce.Do(func() {
		c.l.mu.Lock()
		if c.l.byHost[c.host]--; c.l.byHost[c.host] <= 0 {
			delete(c.l.byHost, c.host)
		}
		if c.l.byAddr[c.addr] == c {
			delete(c.l.byAddr, c.addr)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// keepTCP lengthens the idle time of the TCP connection a request came
// on, once the request has authenticated.
func (s *Server) keepTCP(source string) {
	if l, ok := s.tcp.(*tcpListener); ok {
		l.keep(source, s.cfg.MaxExpires+time.Minute)
	}
}
