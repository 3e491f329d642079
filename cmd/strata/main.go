// Command strata runs Strata as a server that speaks Qdrant's REST API, so
// that Qdrant's official clients work against it unchanged.
//
//	strata serve [flags]   serve the REST API over a data directory
//	strata version         print the version
//
// Configuration comes from a YAML file with Qdrant's keys (--config),
// environment variables STRATA__SECTION__KEY (as QDRANT__SECTION__KEY) and
// flags; flags override the environment, which overrides the file, which
// overrides the defaults. Run "strata serve -h" for the flags and keys.
//
// SIGINT or SIGTERM shuts the server down gracefully: it stops accepting
// connections, lets in-flight requests finish (up to --shutdown-timeout),
// then closes the database, which seals every collection so the next start
// replays nothing. A second signal exits at once; acknowledged writes are
// durable either way.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/strata-db/strata/api/rest"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info, or "dev".
var version string

func strataVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const usage = `usage: strata COMMAND [flags]

commands:
  serve     serve Qdrant's REST API over a data directory
  version   print the version

Run "strata serve -h" for the flags and configuration keys.
`

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel()
		// A second signal kills the process: the default behaviour again.
		signal.Reset(os.Interrupt, syscall.SIGTERM)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// run runs one command and returns the exit code. Cancelling ctx shuts a
// server down gracefully.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], environ, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "strata %s (Qdrant REST API %s, %s %s/%s)\n", strataVersion(), rest.QdrantAPIVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "strata: unknown command %q\n\n%s", args[0], usage)
	return 2
}
