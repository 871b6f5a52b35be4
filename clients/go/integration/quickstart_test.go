package integration

import (
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const quickstart = "csp-commerce/clients/go/examples/quickstart"

// The README's example (examples/quickstart), run as a user would run it.
func TestQuickstartRunsAgainstTheServer(t *testing.T) {
	cmd := exec.Command("go", "run", quickstart)
	cmd.Env = append(os.Environ(), "CSP_ADDR="+srv.address, "CSP_TOKEN="+srv.token(t, "us", "sales_agent"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run %s: %v\n%s", quickstart, err, stderr.String())
	}
	lines := strings.Split(string(out), "\n")
	// 1. the offers (catalog item, title, term, exact price), 2. the review, 3. the order, 4. history.
	review := -1
	for i, line := range lines {
		if strings.HasPrefix(line, "review ") {
			review = i
			break
		}
	}
	if review < 1 || review > 3 {
		t.Fatalf("no review after 1 to 3 offers:\n%s", out)
	}
	offer := regexp.MustCompile(`^CFQ7TTC\w+:\w+:\w+ .+ TERM_DURATION_\w+ BILLING_CYCLE_\w+ \d+\.\d{2,9} USD$`)
	for _, line := range lines[:review] {
		if !offer.MatchString(line) {
			t.Fatalf("not an offer with an exact price: %q", line)
		}
	}
	order := regexp.MustCompile(`^order (ORD-\S+) (\d+\.\d{2,9} USD)$`).FindStringSubmatch(lines[review+1])
	if !strings.HasPrefix(lines[review], "review [] total ") || order == nil ||
		!strings.HasSuffix(lines[review], " "+order[2]) {
		t.Fatalf("the review's total is not the order's:\n%s", out)
	}
	found := false
	for _, line := range lines[review+2:] {
		found = found || line == "history "+order[1]+" "+order[2]
	}
	if !found {
		t.Fatalf("the order is not in the history:\n%s", out)
	}
}

// clients/README.md shows the example file verbatim.
func TestTheReadmeShowsTheQuickstart(t *testing.T) {
	example, err := ioutil.ReadFile(filepath.Join("..", "examples", "quickstart", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := ioutil.ReadFile(filepath.Join(repoRoot(), "clients", "README.md"))
	if err != nil {
		t.Skipf("no clients/README.md beside this copy: %v", err)
	}
	if !strings.Contains(string(readme), string(example)) {
		t.Fatal("clients/README.md does not show examples/quickstart/main.go verbatim: copy the file into it")
	}
}
