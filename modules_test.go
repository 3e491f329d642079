package strata

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
)

// nestedModules are the repository's other Go modules. They link gRPC,
// which the root module keeps out of embedders' builds, so `go test ./...`
// at the root does not reach them: this test runs their suites, with the
// race detector when it runs with it, so the one test command covers the
// whole repository.
var nestedModules = []string{"api/grpc", "cmd/strata"}

func TestNestedModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the nested modules' test suites")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	for _, dir := range nestedModules {
		t.Run(dir, func(t *testing.T) {
			args := []string{"test", "-count=1"}
			if raceBuild() {
				args = append(args, "-race")
			}
			cmd := exec.Command(goTool, append(args, "./...")...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOWORK=off")
			out, err := cmd.CombinedOutput()
			t.Logf("go %v in %s:\n%s", args, dir, out)
			if err != nil {
				t.Fatalf("%s: %v", dir, err)
			}
		})
	}
}

// raceBuild reports whether this test binary was built with -race.
func raceBuild() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}
