// The catalog-change subscriber of clients/README.md: replays the changes after a revision (the
// first argument, default 0), then follows live; cut off, it resumes after the last one handled.
// CSP_ADDR (default 127.0.0.1:50051) and CSP_TOKEN from the environment.
package main

import (
	"context"
	"fmt"
	"log"
	"math/rand"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	commerce "csp-commerce/clients/go/commercev1"
)

var (
	addr  = env("CSP_ADDR", "127.0.0.1:50051")
	token = os.Getenv("CSP_TOKEN") // csp-commerce token --partner us --role sales_agent
)

func main() {
	api, err := commerce.Dial(addr, token) // the token goes on every call
	if err != nil {
		log.Fatal(err)
	}
	defer api.Close()
	var last uint64 // the last revision handled: keep it durably
	if len(os.Args) > 1 {
		if last, err = strconv.ParseUint(os.Args[1], 10, 64); err != nil {
			log.Fatal(err)
		}
	}
	backoff := time.Second
	for {
		err := follow(context.Background(), api.Catalog, &last, &backoff)
		// Cut off however (restart, crash, proxy, too slow a reader): resume after last, unless
		// the request or the token is wrong, which no retry cures.
		switch code := status.Code(err); code {
		case codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied:
			log.Fatal(err)
		default:
			log.Printf("stream ended (%v): resuming after %d", code, last)
		}
		// Jittered, so a replica's subscribers don't all return at once.
		time.Sleep(backoff/2 + time.Duration(rand.Int63n(int64(backoff/2))))
		if backoff *= 2; backoff > 30*time.Second {
			backoff = 30 * time.Second
		}
	}
}

// follow replays the changes after *last, then follows live, until the stream breaks.
func follow(ctx context.Context, catalog commerce.CatalogServiceClient, last *uint64, backoff *time.Duration) error {
	stream, err := catalog.WatchCatalogChanges(ctx, &commerce.WatchCatalogChangesRequest{
		Start: &commerce.WatchCatalogChangesRequest_AfterRevision{AfterRevision: *last}}) // replay, then live
	if err != nil {
		return err
	}
	for {
		message, err := stream.Recv()
		if err != nil {
			return err
		}
		*backoff = time.Second // the stream works again
		// Revisions 1, 2, 3, ...: no gap, no duplicate.
		for _, change := range message.GetChanges().GetChanges() {
			fmt.Println(change.Revision, change.Kind, change.ProductId, change.SkuId, change.Country)
			*last = change.Revision
		}
		if progress := message.GetProgress(); progress != nil {
			fmt.Println("caught up at", progress.CurrentRevision)
		}
	}
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
