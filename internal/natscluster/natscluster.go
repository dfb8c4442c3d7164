package natscluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Cluster is n routed servers.
type Cluster struct {
	Servers []*server.Server
	// proxies[i][j] carries server i's route to server j.
	proxies [][]*proxy
}

// Start runs n servers named s0..sn-1 in cluster "perpx", their stores
// under dir, and waits until JetStream has a meta leader.
func Start(n int, dir string) (*Cluster, error) {
	c, err := start(n, dir)
	if errors.Is(err, errNotReady) { // a route port taken after it was picked: once more, with others
		c, err = start(n, dir)
	}
	return c, err
}

var errNotReady = errors.New("natscluster: a server is not ready")

func start(n int, dir string) (*Cluster, error) {
	c := &Cluster{Servers: make([]*server.Server, n), proxies: make([][]*proxy, n)}
	// Route ports first: the proxies must know where they lead. Each is
	// held until its server starts, so a proxy's own port cannot be it.
	ports := make([]int, n)
	held := make([]net.Listener, n)
	defer func() {
		for _, ln := range held {
			if ln != nil {
				_ = ln.Close()
			}
		}
	}()
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		held[i] = ln
	}
	for i := range n {
		c.proxies[i] = make([]*proxy, n)
		for j := range n {
			if i == j {
				continue
			}
			p, err := newProxy(fmt.Sprintf("127.0.0.1:%d", ports[j]))
			if err != nil {
				c.Close()
				return nil, err
			}
			c.proxies[i][j] = p
		}
	}
	for i := range n {
		opts := &server.Options{ServerName: fmt.Sprintf("s%d", i), Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true,
			JetStream: true, StoreDir: filepath.Join(dir, fmt.Sprintf("s%d", i)), SyncAlways: true, DisableJetStreamBanner: true,
			Cluster: server.ClusterOpts{Name: "perpx", Host: "127.0.0.1", Port: ports[i], NoAdvertise: true, PoolSize: -1,
				// Gossip would make implicit routes straight to this port,
				// around the proxies (a partition then left them up): the
				// address advertised for them refuses connections.
				Advertise: "127.0.0.1:1"}}
		for j, p := range c.proxies[i] {
			if j != i {
				opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats-route", Host: p.addr()})
			}
		}
		_ = held[i].Close()
		held[i] = nil
		s, err := server.NewServer(opts)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Servers[i] = s
		s.Start()
	}
	for _, s := range c.Servers {
		if !s.ReadyForConnections(10 * time.Second) {
			c.Close()
			return nil, errNotReady
		}
	}
	if err := c.placeable(20 * time.Second); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// placeable waits until a stream with a replica on every server can be
// made: the meta leader is elected and knows every peer online.
func (c *Cluster) placeable(within time.Duration) error {
	nc, err := nats.Connect(c.URLs(0))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		_, err := js.CreateStream(rctx, jetstream.StreamConfig{Name: "NATSCLUSTER_PROBE", Storage: jetstream.MemoryStorage, Replicas: len(c.Servers)})
		rcancel()
		if err == nil {
			return js.DeleteStream(ctx, "NATSCLUSTER_PROBE")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("natscluster: JetStream cannot place three replicas: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// URL is server i's client URL.
func (c *Cluster) URL(i int) string { return c.Servers[i].ClientURL() }

// URLs is every server's client URL, comma separated (as nats.Connect
// takes them), server i's first.
func (c *Cluster) URLs(i int) string {
	urls := []string{c.URL(i)}
	for j := range c.Servers {
		if j != i {
			urls = append(urls, c.URL(j))
		}
	}
	return strings.Join(urls, ",")
}

// Partition cuts server i's routes both ways and refuses new ones.
func (c *Cluster) Partition(i int) {
	for j := range c.Servers {
		if j != i {
			c.proxies[i][j].cut(true)
			c.proxies[j][i].cut(true)
		}
	}
}

// Heal lets server i's routes connect again.
func (c *Cluster) Heal(i int) {
	for j := range c.Servers {
		if j != i {
			c.proxies[i][j].cut(false)
			c.proxies[j][i].cut(false)
		}
	}
}

// Stop shuts server i down (as a crash: its clients are cut off).
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// Close stops every server and proxy.
func (c *Cluster) Close() {
	for _, s := range c.Servers {
		if s != nil {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}
	for _, row := range c.proxies {
		for _, p := range row {
			if p != nil {
				p.close()
			}
		}
	}
}

// proxy forwards TCP connections to target until cut.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		if !p.track(in, out) { // cut while dialing
			_ = in.Close()
			_ = out.Close()
			continue
		}
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

// track keeps cs for a cut, false (keeping nothing) when a cut came
// first: a connection accepted before a cut must not outlive it.
func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut closes every connection and refuses new ones (down), or lets them
// through again.
func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.cut(true)
}
