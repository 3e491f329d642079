// Package lint holds tests that enforce the project's structure: the layer
// rules of docs/architecture.md (each package imports only the layers below
// it) and the short list of third-party modules the engine may use.
package lint

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/strata-db/strata"

// layers maps a package (relative to the module; a trailing "/..." covers
// its subpackages) to the module packages it may import. Every package of
// the module must match an entry.
var layers = []struct {
	pkg     string
	imports []string
}{
	{"internal/base", nil},
	{"internal/vector", nil},
	{"internal/bitset", nil},
	{"internal/invariants", nil},
	{"internal/vfs", []string{"internal/base"}},
	{"internal/quant", []string{"internal/base", "internal/vector"}},
	{"internal/text", []string{"internal/base", "internal/bitset"}},
	{"internal/wal", []string{"internal/base", "internal/vfs"}},
	{"internal/index/...", []string{"internal/base", "internal/vector", "internal/quant", "internal/bitset", "internal/index/..."}},
	{"internal/filter", []string{"internal/base", "internal/text", "internal/bitset", "internal/vfs"}},
	{"internal/fieldindex", []string{"internal/base", "internal/text", "internal/bitset", "internal/vfs", "internal/filter"}},
	{"internal/segment", []string{"internal/base", "internal/vector", "internal/bitset", "internal/vfs", "internal/index/...", "internal/quant", "internal/filter", "internal/fieldindex", "internal/text"}},
	{"internal/collection", []string{"internal/base", "internal/vector", "internal/bitset", "internal/vfs", "internal/index/...", "internal/quant", "internal/filter", "internal/fieldindex", "internal/text", "internal/segment", "internal/wal"}},
	{"internal/dataset", nil},
	{"internal/testutil", []string{"internal/..."}},
	{"internal/lint", nil},
	// The root package; internal/dataset only from its recall test.
	{"", []string{"internal/base", "internal/vector", "internal/bitset", "internal/vfs", "internal/index/...", "internal/quant", "internal/filter", "internal/fieldindex", "internal/text", "internal/segment", "internal/wal", "internal/collection", "internal/dataset"}},
	{"api/internal/...", nil},
	{"api/...", []string{"", "api/internal/..."}},
	{"cmd/strata-tool", []string{"", "api/...", "internal/wal", "internal/segment", "internal/base", "internal/vfs"}},
	{"cmd/strata-bench", []string{"", "internal/dataset"}},
	{"cmd/...", []string{"", "api/..."}},
	{"examples/...", []string{""}},
	// The client conformance suite drives the server binary; it imports
	// nothing of the module.
	{"conformance", nil},
}

// thirdParty lists the modules outside the standard library that module
// packages may import (see docs/architecture.md, "Dependencies").
var thirdParty = []string{
	"golang.org/x/sys/",
	"github.com/RoaringBitmap/roaring/v2/",
	"github.com/klauspost/compress/",
	"gopkg.in/yaml.v3/",
}

func matches(pattern, rel string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == p || strings.HasPrefix(rel, p+"/")
	}
	return rel == pattern
}

func rule(rel string) ([]string, bool) {
	for _, l := range layers {
		if matches(l.pkg, rel) {
			return l.imports, true
		}
	}
	return nil, false
}

func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

func TestImportLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imps, _ := strings.Cut(line, "|")
		// go list -test adds test variants ("p [p.test]") and test mains;
		// check each variant's imports under the package's own rule.
		pkg, _, _ = strings.Cut(pkg, " ")
		pkg = strings.TrimSuffix(pkg, ".test")
		pkg = strings.TrimSuffix(pkg, "_test")
		if pkg != module && !strings.HasPrefix(pkg, module+"/") {
			continue
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		allowed, ok := rule(rel)
		if !ok {
			t.Errorf("package %s has no layer rule: add it to internal/lint", pkg)
			continue
		}
		for _, imp := range strings.Fields(imps) {
			switch {
			case strings.HasPrefix(imp, "["): // "[p.test]" suffix of a test variant's import
			case isStd(imp):
			case imp == module || strings.HasPrefix(imp, module+"/"):
				irel := strings.TrimPrefix(strings.TrimPrefix(imp, module), "/")
				if irel == rel || irel == rel+"_test" {
					continue // an external test package and its own package
				}
				ok := false
				for _, a := range allowed {
					if matches(a, irel) {
						ok = true
						break
					}
				}
				if !ok {
					t.Errorf("%s imports %s, which its layer may not (see docs/architecture.md)", pkg, imp)
				}
			default:
				ok := false
				for _, tp := range thirdParty {
					if strings.HasPrefix(imp+"/", tp) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports third-party %s, which is not on the allow list", pkg, imp)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no imports checked: go list returned nothing")
	}
}

// The root package must not expose internal packages' types beyond the
// aliases it re-exports deliberately: internal packages never import it
// (checked above), so here we check the reverse direction for api/.
func TestInternalDoesNotImportRootOrAPI(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"/internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == module || strings.HasPrefix(p, module+"/api/") {
			t.Errorf("an internal package depends on %s", p)
		}
	}
}
