package integration

import (
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
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
	product, customer := false, false
	for _, line := range lines {
		product = product || strings.HasPrefix(line, "CFQ7TTC")
		customer = customer || strings.HasPrefix(line, "customer ")
	}
	if lines[0] != "Fabrikam, Inc. US" || !product || !customer {
		t.Fatalf("unexpected output:\n%s", out)
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
