package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io/ioutil"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	commerce "csp-commerce/clients/go/commercev1"
)

// commercev1.Dial: a client per service, the token on every call without any metadata in the
// caller's context.
func TestDialSendsTheTokenOnEveryCall(t *testing.T) {
	api, err := commerce.Dial(srv.address, srv.token(t, "us", "sales_agent"))
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	readFabrikam(t, api)
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	page, err := api.Catalog.ListProducts(c, &commerce.ListProductsRequest{
		Filter: &commerce.CatalogFilter{Country: "US", Text: "e3"}, PageSize: 3})
	if err != nil || len(page.Products) == 0 {
		t.Fatalf("ListProducts: %v %v", page, err)
	}
	if _, err := api.Carts.ListCarts(c, &commerce.ListCartsRequest{CustomerId: usFabrikam}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Orders.ListOrders(c, &commerce.ListOrdersRequest{CustomerId: usFabrikam}); err != nil {
		t.Fatal(err)
	}

	// The same calls with another token: it is the token that Dial sends that authenticates.
	wrong, err := commerce.Dial(srv.address, "not-a-jwt")
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	_, err = wrong.Customers.GetCustomer(c, &commerce.GetCustomerRequest{CustomerId: usFabrikam})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("want UNAUTHENTICATED with a wrong token, got %v", err)
	}
}

// Plaintext only to loopback: elsewhere the token would cross the network in clear.
func TestDialRefusesPlaintextBeyondLoopback(t *testing.T) {
	for _, addr := range []string{"192.0.2.10:50051", "api.example.com:443"} {
		if _, err := commerce.Dial(addr, "token"); err == nil || !strings.Contains(err.Error(), "DialTLS") {
			t.Errorf("Dial(%q): want a refusal naming DialTLS, got %v", addr, err)
		}
	}
	for _, addr := range []string{"localhost:50051", "[::1]:50051", "127.0.0.2:50051"} {
		api, err := commerce.Dial(addr, "token")
		if err != nil {
			t.Errorf("Dial(%q): %v", addr, err)
			continue
		}
		api.Close()
	}
}

// BearerToken without allowPlaintext: grpc-go refuses a plaintext connection.
func TestBearerTokenRequiresTLSUnlessAllowed(t *testing.T) {
	conn, err := grpc.Dial(srv.address, grpc.WithInsecure(), grpc.WithPerRPCCredentials(commerce.BearerToken("token", false)))
	if err == nil {
		conn.Close()
		t.Fatal("grpc.Dial accepted a token that requires TLS over plaintext")
	}
}

// commercev1.DialTLS against a server speaking TLS (CSP_TLS_*): the token goes with the calls; a
// plaintext Dial to the same server fails.
func TestDialTLSSendsTheTokenOverTLS(t *testing.T) {
	certFile, keyFile, roots := selfSignedCertificate(t)
	tlsServer, err := startServerWith(grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots})),
		"CSP_TLS_CERT_FILE="+certFile, "CSP_TLS_KEY_FILE="+keyFile)
	if err != nil {
		t.Fatal(err)
	}
	defer tlsServer.stop()
	_, port, _ := net.SplitHostPort(tlsServer.address)
	api, err := commerce.DialTLS("localhost:"+port, tlsServer.token(t, "us", "sales_agent"), &tls.Config{RootCAs: roots})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	readFabrikam(t, api)
	plain, err := commerce.Dial("localhost:"+port, tlsServer.token(t, "us", "sales_agent"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	short, cancelShort := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShort()
	if _, err := plain.Customers.GetCustomer(short, &commerce.GetCustomerRequest{CustomerId: usFabrikam}); err == nil {
		t.Fatal("a plaintext call to a TLS server succeeded")
	}
}

// readFabrikam reads the demo customer Fabrikam through api, with no metadata of its own.
func readFabrikam(t *testing.T, api *commerce.Clients) {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := api.Customers.GetCustomer(c, &commerce.GetCustomerRequest{CustomerId: usFabrikam})
	if err != nil {
		t.Fatal(err)
	}
	if got.Customer.CompanyName != "Fabrikam, Inc." {
		t.Fatalf("customer %v", got.Customer)
	}
}

// selfSignedCertificate writes a P-256 key and a self-signed certificate for localhost and
// 127.0.0.1 into a temporary folder, and returns their paths and a pool trusting it.
func selfSignedCertificate(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := ioutil.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ioutil.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, roots
}
