package integration

import (
	"bufio"
	"context"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	commerce "csp-commerce/clients/go/commercev1"
)

// The deadline of each stream, so a read that stalls fails the test instead of hanging it.
const streamDeadline = 15 * time.Second

const watchExample = "csp-commerce/clients/go/examples/watch"

// watchServer is a server of the test's own, since publishing a month changes the catalog the
// other tests read (and a month publishes once); it sends progress every 200 ms when idle.
func watchServer(t *testing.T) *server {
	// ImportMonth reads paths only under the server's import folder.
	s, err := startServer("CSP_WATCH_PROGRESS_INTERVAL_MS=200",
		"CSP_IMPORT_DIR="+filepath.Join(repoRoot(), "data", "demo"))
	if err != nil {
		t.Fatalf("starting a server for the change stream: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

// The demo month the server seeds at start is the first month published, which writes no change
// event: the log starts empty at revision 0. replayServer publishes months to replay: 2026-12
// (280 changes on the demo data), then the 2026-11 files again as 2027-01 (247 changes back):
// 527 changes, at least two batches (at most 500 each). The month published live is the 2026-12
// files again, as 2027-02.
var replayed = []struct{ month, folder string }{{"2026-12", "2026-12"}, {"2027-01", "2026-11"}}

// replayServer is a watchServer with the replayed months published: a change log to replay, more
// than a batch long.
func replayServer(t *testing.T) *server {
	s := watchServer(t)
	var last uint64
	for _, m := range replayed {
		published := publish(t, s, m.month, m.folder)
		if published.FirstRevision != last+1 || published.LastRevision <= published.FirstRevision {
			t.Fatalf("%s published %v after revision %d", m.month, published, last)
		}
		last = published.LastRevision
	}
	waitForHead(t, s, last)
	return s
}

// waitForHead waits until the server's change feed has broadcast revision: PublishMonth returns
// once the month is stored, and the feed reads it from the log just after (a stream started before
// may report progress at the previous head, then get the month live).
func waitForHead(t *testing.T, s *server, revision uint64) {
	t.Helper()
	deadline := time.Now().Add(streamDeadline)
	for {
		head := currentRevision(t, s)
		if head >= revision {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feed is at %d, not at %d", head, revision)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// currentRevision is the server's head, as a stream from now reports it.
func currentRevision(t *testing.T, s *server) uint64 {
	t.Helper()
	nowCtx, cancelNow := as(t, s, "us", "sales_agent")
	defer cancelNow()
	now, err := commerce.NewCatalogServiceClient(s.conn).WatchCatalogChanges(nowCtx,
		&commerce.WatchCatalogChangesRequest{Start: &commerce.WatchCatalogChangesRequest_FromNow{FromNow: true}})
	if err != nil {
		t.Fatal(err)
	}
	// A month broadcast just as the stream starts may come before the first progress: its
	// changes are passed over; the progress after them tells the head.
	for {
		message, err := now.Recv()
		if err != nil {
			t.Fatalf("from now: %v", err)
		}
		if progress := message.GetProgress(); progress != nil {
			return progress.CurrentRevision
		}
		if message.GetChanges() == nil {
			t.Fatalf("from now: neither progress nor changes: %v", message)
		}
	}
}

// publish imports the files of the demo folder (data/demo/<folder>) as month and publishes it.
func publish(t *testing.T, s *server, month, folder string) *commerce.PublishMonthResponse {
	t.Helper()
	admin := commerce.NewCatalogAdminServiceClient(s.conn)
	adminCtx, _ := as(t, s, "", "catalog_admin")
	dir := filepath.Join(repoRoot(), "data", "demo", folder)
	var priceLists []string
	for _, m := range []string{"US", "DE", "FR", "GB", "IE", "JP", "SK"} {
		priceLists = append(priceLists, filepath.Join(dir, "pricelist-"+m+".csv"))
	}
	if _, err := admin.ImportMonth(adminCtx, &commerce.ImportMonthRequest{
		RequestId: requestID(t), Month: month,
		OfferMatrixPath: filepath.Join(dir, "offer-matrix.csv"), PriceListPaths: priceLists}); err != nil {
		t.Fatalf("importing %s: %v\nserver log:\n%s", month, err, s.log())
	}
	published, err := admin.PublishMonth(adminCtx, &commerce.PublishMonthRequest{RequestId: requestID(t), Month: month})
	if err != nil {
		t.Fatalf("publishing %s: %v\nserver log:\n%s", month, err, s.log())
	}
	return published
}

// as carries the token of partner and role ("" for none), with a deadline; cancel ends it early.
func as(t *testing.T, s *server, partner, role string) (context.Context, context.CancelFunc) {
	c, cancel := context.WithTimeout(context.Background(), streamDeadline)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(c, "authorization", "Bearer "+s.token(t, partner, role)), cancel
}

func after(revision uint64) *commerce.WatchCatalogChangesRequest {
	return &commerce.WatchCatalogChangesRequest{
		Start: &commerce.WatchCatalogChangesRequest_AfterRevision{AfterRevision: revision}}
}

func revisionsOf(batch *commerce.CatalogChangeBatch) []uint64 {
	var out []uint64
	for _, c := range batch.Changes {
		out = append(out, c.Revision)
	}
	return out
}

// assertExactly: seen is 1..=last in order, no gap, no duplicate.
func assertExactly(t *testing.T, seen []uint64, last uint64) {
	t.Helper()
	ok := uint64(len(seen)) == last
	for i := 0; ok && i < len(seen); i++ {
		ok = seen[i] == uint64(i+1)
	}
	if ok {
		return
	}
	count := map[uint64]int{}
	var unordered []string
	for i, r := range seen {
		count[r]++
		if i > 0 && r <= seen[i-1] {
			unordered = append(unordered, fmt.Sprintf("%d,%d", seen[i-1], r))
		}
	}
	var duplicates, missing, beyond []uint64
	for r, n := range count {
		if n > 1 {
			duplicates = append(duplicates, r)
		}
		if r > last {
			beyond = append(beyond, r)
		}
	}
	for r := uint64(1); r <= last; r++ {
		if count[r] == 0 {
			missing = append(missing, r)
		}
	}
	sort.Slice(duplicates, func(i, j int) bool { return duplicates[i] < duplicates[j] })
	sort.Slice(beyond, func(i, j int) bool { return beyond[i] < beyond[j] })
	t.Fatalf("%d revisions, expected 1..=%d: duplicates %v, missing %v, out of order %v, beyond %v",
		len(seen), last, head20(duplicates), head20(missing), unordered[:min20(len(unordered))], head20(beyond))
}

func min20(n int) int {
	if n > 20 {
		return 20
	}
	return n
}

func head20(rs []uint64) []uint64 { return rs[:min20(len(rs))] }

// The first month published (the demo's 2026-11, at start) writes no change event: from revision
// 0 the stream is caught up at once, at 0.
func TestTheSeededMonthWroteNoChange(t *testing.T) {
	s := watchServer(t)
	streamCtx, cancel := as(t, s, "us", "sales_agent")
	defer cancel()
	stream, err := commerce.NewCatalogServiceClient(s.conn).WatchCatalogChanges(streamCtx, after(0))
	if err != nil {
		t.Fatal(err)
	}
	message, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if progress := message.GetProgress(); progress == nil || progress.CurrentRevision != 0 {
		t.Fatalf("from revision 0 on the seeded server: %v, want progress at 0", message)
	}
}

// A subscriber cut off in the middle of the replay resumes after the last revision it saw and,
// through a month published while it listens, misses nothing and sees nothing twice.
func TestASubscriberCutOffMidReplayResumesWithoutLossOrDuplicate(t *testing.T) {
	s := replayServer(t)
	catalog := commerce.NewCatalogServiceClient(s.conn)
	var seen []uint64

	// From the beginning (the replayed months' 527 changes, two batches or more); hang up after
	// the first batch, in the middle of the replay.
	firstCtx, cancelFirst := as(t, s, "us", "sales_agent")
	first, err := catalog.WatchCatalogChanges(firstCtx, after(0))
	if err != nil {
		t.Fatal(err)
	}
	message, err := first.Recv()
	if err != nil {
		t.Fatal(err)
	}
	batch := message.GetChanges()
	if batch == nil {
		t.Fatalf("no change to replay: %v", message)
	}
	if n := len(batch.Changes); n == 0 || n > 500 {
		t.Fatalf("a batch of %d changes", n)
	}
	seen = append(seen, revisionsOf(batch)...)
	cancelFirst()
	for {
		if _, err := first.Recv(); err != nil {
			if status.Code(err) != codes.Canceled {
				t.Fatalf("the cancelled stream ended with %v", err)
			}
			break
		}
	}
	cut := seen[len(seen)-1]

	// Resume after the last revision seen: the rest of the replay, then progress.
	resumedCtx, cancelResumed := as(t, s, "us", "sales_agent")
	defer cancelResumed()
	resumed, err := catalog.WatchCatalogChanges(resumedCtx, after(cut))
	if err != nil {
		t.Fatal(err)
	}
	var head uint64
	for {
		message, err := resumed.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if progress := message.GetProgress(); progress != nil {
			head = progress.CurrentRevision
			break
		}
		seen = append(seen, revisionsOf(message.GetChanges())...)
	}
	if cut >= head {
		t.Fatalf("cut off at %d, which was not in the middle of the replay (head %d)", cut, head)
	}
	assertExactly(t, seen, head)

	// A month published while subscribed arrives live (the 2026-12 files again).
	published := publish(t, s, "2027-02", "2026-12")
	if published.FirstRevision != head+1 || published.LastRevision <= published.FirstRevision {
		t.Fatalf("published %v after head %d", published, head)
	}
	for seen[len(seen)-1] < published.LastRevision {
		message, err := resumed.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if progress := message.GetProgress(); progress != nil {
			// Idle progress: never ahead of what was delivered.
			if progress.CurrentRevision != seen[len(seen)-1] {
				t.Fatalf("progress %d after revision %d", progress.CurrentRevision, seen[len(seen)-1])
			}
			continue
		}
		seen = append(seen, revisionsOf(message.GetChanges())...)
	}
	assertExactly(t, seen, published.LastRevision)
}

// The README's subscriber (examples/watch), run as a user would run it: replay, then caught up.
func TestTheWatchExampleReplaysThenReportsCaughtUp(t *testing.T) {
	s := replayServer(t)
	head := currentRevision(t, s)
	if head <= 3 {
		t.Fatalf("head %d", head)
	}

	// Built, then run: `go run` would leave the example running when killed.
	binary := filepath.Join(t.TempDir(), "watch")
	if out, err := exec.Command("go", "build", "-o", binary, watchExample).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", watchExample, err, out)
	}
	cmd := exec.Command(binary, fmt.Sprint(head-3))
	cmd.Env = append(os.Environ(), "CSP_ADDR="+s.address, "CSP_TOKEN="+s.token(t, "us", "sales_agent"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
	}()
	var out []string
	timeout := time.After(streamDeadline)
	for len(out) == 0 || !strings.HasPrefix(out[len(out)-1], "caught up") {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the example exited: %q\n%s", out, stderr.String())
			}
			out = append(out, line)
		case <-timeout:
			t.Fatalf("the example did not catch up within %s: %q\n%s", streamDeadline, out, stderr.String())
		}
	}
	var want []string
	for r := head - 2; r <= head; r++ {
		want = append(want, fmt.Sprint(r))
	}
	var got []string
	for _, line := range out[:len(out)-1] {
		fields := strings.Fields(line)
		got = append(got, fields[0])
		if len(fields) < 2 || !strings.HasPrefix(fields[1], "CHANGE_KIND_") {
			t.Fatalf("unexpected line %q", line)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || out[len(out)-1] != fmt.Sprint("caught up at ", head) {
		t.Fatalf("unexpected output (want revisions %v, then caught up at %d):\n%s", want, head, strings.Join(out, "\n"))
	}
}

// clients/README.md shows the example file verbatim.
func TestTheReadmeShowsTheWatchExample(t *testing.T) {
	example, err := ioutil.ReadFile(filepath.Join("..", "examples", "watch", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := ioutil.ReadFile(filepath.Join(repoRoot(), "clients", "README.md"))
	if err != nil {
		t.Skipf("no clients/README.md beside this copy: %v", err)
	}
	if !strings.Contains(string(readme), string(example)) {
		t.Fatal("clients/README.md does not show examples/watch/main.go verbatim: copy the file into it")
	}
}
