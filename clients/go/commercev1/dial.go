// Hand-written (clients/generate.sh replaces only the *.pb.go files beside it): a connection to
// the csp-commerce API with a client per service, and the bearer token on every call.

package commercev1

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Clients holds a client of every csp.commerce.v1 service over one connection.
type Clients struct {
	Catalog   CatalogServiceClient
	Customers CustomerServiceClient
	Carts     CartServiceClient
	Orders    OrderServiceClient
	Events    SubscriptionEventServiceClient
	// Conn is the connection the clients share (for other services, such as grpc.health.v1).
	Conn *grpc.ClientConn
}

// Close closes the connection the clients share.
func (c *Clients) Close() error { return c.Conn.Close() }

// Dial connects to addr over plaintext HTTP/2 and sends token as `authorization: Bearer <token>`
// on every call. Plaintext is allowed only to a loopback address (127.0.0.1, ::1, localhost), so
// the token never crosses a network in clear: use DialTLS for any other server. Like grpc.Dial it
// does not wait for the connection; the first call does. opts add to the dial options.
func Dial(addr, token string, opts ...grpc.DialOption) (*Clients, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("commercev1.Dial %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("commercev1.Dial %q: not a loopback address, and plaintext would send the token in clear: use DialTLS", addr)
	}
	// WithInsecure for Debian's grpc-go 1.33; from 1.34 on it is
	// grpc.WithTransportCredentials(insecure.NewCredentials()) (google.golang.org/grpc/credentials/insecure),
	// and from 1.63 on grpc.NewClient replaces grpc.Dial (README.md).
	return dial(addr, append([]grpc.DialOption{grpc.WithInsecure(),
		grpc.WithPerRPCCredentials(BearerToken(token, true))}, opts...))
}

// DialTLS connects to addr over TLS (config nil: the system's roots; for mTLS set
// config.Certificates) and sends token on every call, like Dial.
func DialTLS(addr, token string, config *tls.Config, opts ...grpc.DialOption) (*Clients, error) {
	if config == nil {
		config = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return dial(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(config)),
		grpc.WithPerRPCCredentials(BearerToken(token, false))}, opts...))
}

func dial(addr string, opts []grpc.DialOption) (*Clients, error) {
	conn, err := grpc.Dial(addr, opts...)
	if err != nil {
		return nil, err
	}
	return &Clients{
		Catalog:   NewCatalogServiceClient(conn),
		Customers: NewCustomerServiceClient(conn),
		Carts:     NewCartServiceClient(conn),
		Orders:    NewOrderServiceClient(conn),
		Events:    NewSubscriptionEventServiceClient(conn),
		Conn:      conn,
	}, nil
}

// BearerToken is per-call credentials that send `authorization: Bearer <token>`, for a
// connection of your own: grpc.WithPerRPCCredentials(commercev1.BearerToken(token, false)).
// With allowPlaintext false, grpc-go refuses to send it over a connection without TLS.
func BearerToken(token string, allowPlaintext bool) credentials.PerRPCCredentials {
	return bearerToken{value: "Bearer " + token, requireTLS: !allowPlaintext}
}

type bearerToken struct {
	value      string
	requireTLS bool
}

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": b.value}, nil
}

func (b bearerToken) RequireTransportSecurity() bool { return b.requireTLS }
