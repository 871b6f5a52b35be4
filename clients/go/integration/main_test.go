// Package integration runs the Go client against the REAL csp-commerce binary: TestMain starts it
// once on a free port with a fresh SQLite database (the demo catalog and partners load into it),
// waits until grpc.health.v1 Check answers SERVING, and the tests share it. A test that changes
// what the others read (watch_test.go publishes a month) starts a server of its own with
// startServer(extra CSP_* settings...); TestMain stops every server started.
//
// Env: CSP_BIN (default: target/debug/csp-commerce relative to the repository root).
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	commerce "csp-commerce/clients/go/commercev1"
)

const (
	jwtSecret      = "go-client-tests-secret-0123456789"
	startupTimeout = 60 * time.Second

	// Demo data (data/demo/seed.json): ids are uuid5 of fixed keys and never change.
	usFabrikam            = "d752e4e8-b024-505a-bcbf-8881ad9e5cfb" // partner us, US, no qualifications
	usNorthwindFoundation = "77358f27-ac37-5fd0-89b3-761011fcc602" // nonprofit (approved)
)

// The server every test talks to.
var srv *server

// Every server started, for TestMain to stop.
var (
	startedMu sync.Mutex
	started   []*server
)

type server struct {
	binary  string
	address string
	env     []string
	cmd     *exec.Cmd
	exited  chan error
	dir     string
	conn    *grpc.ClientConn
	// How a client connects: grpc.WithInsecure(), or TLS credentials for a CSP_TLS_* server.
	transport grpc.DialOption

	mu       sync.Mutex
	tokens   map[string]string
	stopOnce sync.Once
}

func TestMain(m *testing.M) {
	s, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting csp-commerce:", err)
		os.Exit(1)
	}
	srv = s
	code := m.Run()
	startedMu.Lock()
	for _, s := range started {
		s.stop()
	}
	startedMu.Unlock()
	os.Exit(code)
}

// The repository root: clients/go/integration is three levels down (through the GOPATH symlink).
func repoRoot() string {
	dir, err := os.Getwd()
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		dir = "."
	}
	abs, _ := filepath.Abs(filepath.Join(dir, "..", "..", ".."))
	return abs
}

func serverBinary() (string, error) {
	bin := os.Getenv("CSP_BIN")
	if bin == "" {
		bin = "target/debug/csp-commerce"
	}
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(repoRoot(), bin)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("csp-commerce binary not found at %s: run `cargo build --bin csp-commerce` or set CSP_BIN", bin)
	}
	return bin, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The caller's environment without any CSP_* or OTLP setting, plus extra.
func serverEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CSP_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// startServer starts the binary on a free port with a fresh SQLite database and the extra
// environment settings ("CSP_NAME=value").
func startServer(extra ...string) (*server, error) {
	return startServerWith(grpc.WithInsecure(), extra...)
}

// startServerWith is startServer for a server that clients reach with transport (TLS
// credentials when extra sets CSP_TLS_*).
func startServerWith(transport grpc.DialOption, extra ...string) (*server, error) {
	bin, err := serverBinary()
	if err != nil {
		return nil, err
	}
	dir, err := ioutil.TempDir("", "csp-commerce-go-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		binary:    bin,
		address:   fmt.Sprintf("127.0.0.1:%d", port),
		dir:       dir,
		tokens:    map[string]string{},
		transport: transport,
	}
	s.env = serverEnv(
		"CSP_LISTEN="+s.address,
		"CSP_DATABASE_URL=sqlite://"+filepath.Join(dir, "x.sqlite"),
		"CSP_JWT_SECRET="+jwtSecret,
		"CSP_LOG=warn",
		// No balancer to tell: stop without the drain grace.
		"CSP_DRAIN_GRACE_MS=0",
	)
	s.env = append(s.env, extra...)
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s.cmd = exec.Command(bin)
	s.cmd.Env = s.env
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	if err := s.waitUntilServing(); err != nil {
		s.stop()
		return nil, err
	}
	s.conn, err = grpc.Dial(s.address, s.transport)
	if err != nil {
		s.stop()
		return nil, err
	}
	startedMu.Lock()
	started = append(started, s)
	startedMu.Unlock()
	return s, nil
}

func (s *server) log() string {
	b, _ := ioutil.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

func (s *server) waitUntilServing() error {
	conn, err := grpc.Dial(s.address, s.transport)
	if err != nil {
		return err
	}
	defer conn.Close()
	health := grpc_health_v1.NewHealthClient(conn)
	deadline := time.Now().Add(startupTimeout)
	for {
		select {
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("csp-commerce exited (%v):\n%s", err, s.log())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		reply, err := health.Check(ctx, &grpc_health_v1.HealthCheckRequest{})
		cancel()
		if err == nil && reply.Status == grpc_health_v1.HealthCheckResponse_SERVING {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("csp-commerce not serving after %s:\n%s", startupTimeout, s.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the server (once: later calls do nothing) and removes its directory.
func (s *server) stop() { s.stopOnce.Do(s.terminate) }

func (s *server) terminate() {
	if s.conn != nil {
		s.conn.Close()
	}
	if s.exited != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	os.RemoveAll(s.dir)
}

// token mints a bearer token with `csp-commerce token` and the server's secret.
func (s *server) token(t testing.TB, partner, role string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := partner + "/" + role
	if tok, ok := s.tokens[key]; ok {
		return tok
	}
	args := []string{"token", "--role", role}
	if partner != "" {
		args = append(args, "--partner", partner)
	}
	cmd := exec.Command(s.binary, args...)
	cmd.Env = s.env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("csp-commerce token: %v", err)
	}
	tok := strings.TrimSpace(string(out))
	s.tokens[key] = tok
	return tok
}

// ctx carries `authorization: Bearer <token>` for partner us, role sales_agent, with a deadline.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(c, "authorization", "Bearer "+srv.token(t, "us", "sales_agent"))
}

func catalogClient() commerce.CatalogServiceClient {
	return commerce.NewCatalogServiceClient(srv.conn)
}

func customerClient() commerce.CustomerServiceClient {
	return commerce.NewCustomerServiceClient(srv.conn)
}

func cartClient() commerce.CartServiceClient {
	return commerce.NewCartServiceClient(srv.conn)
}

func orderClient() commerce.OrderServiceClient {
	return commerce.NewOrderServiceClient(srv.conn)
}

// requestID is a fresh idempotency key for a write: a retry with the same one is applied once.
func requestID(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// catalogItem is the availability of a SKU in one country and segment.
func catalogItem(t testing.TB, productID, skuID, country string, segment commerce.Segment) *commerce.Availability {
	t.Helper()
	reply, err := catalogClient().ListAvailabilities(ctx(t), &commerce.ListAvailabilitiesRequest{
		ProductId: productID, SkuId: skuID, Country: country, Segment: segment})
	if err != nil {
		t.Fatal(err)
	}
	if len(reply.Availabilities) != 1 {
		t.Fatalf("expected one availability of %s:%s in %s, got %d", productID, skuID, country, len(reply.Availabilities))
	}
	return reply.Availabilities[0]
}

// newCustomer creates a customer that has accepted the Microsoft Customer Agreement and owns nothing.
func newCustomer(t testing.TB, name string) *commerce.Customer {
	t.Helper()
	slug := strings.ReplaceAll(strings.ToLower(name), " ", "-")
	created, err := customerClient().CreateCustomer(ctx(t), &commerce.CreateCustomerRequest{
		RequestId: requestID(t), CompanyName: name, Country: "US",
		Email: "it@" + slug + ".example.com", Domain: slug + ".example.com"})
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := customerClient().AcceptAgreement(ctx(t), &commerce.AcceptAgreementRequest{
		RequestId: requestID(t), CustomerId: created.Customer.Id, Etag: created.Customer.Etag,
		ContactName: "Avery Example", ContactEmail: "avery@" + slug + ".example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return accepted.Customer
}
