package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// config is the server's configuration. Keys follow Qdrant's config.yaml,
// so a Qdrant configuration mostly works as is (keys Strata does not know
// are logged and ignored).
type config struct {
	Host             string // service.host
	HTTPPort         int    // service.http_port; 0 picks a free port
	GRPCPort         int    // service.grpc_port
	APIKey           string // service.api_key
	ReadOnlyAPIKey   string // service.read_only_api_key
	MaxRequestSizeMB int    // service.max_request_size_mb
	// MaxConcurrentRequests bounds the requests each API (REST, gRPC)
	// handles at once; 0 means no limit (service.max_concurrent_requests).
	MaxConcurrentRequests int
	EnableTLS             bool   // service.enable_tls
	TLSCert               string // tls.cert
	TLSKey                string // tls.key
	StoragePath           string // storage.storage_path
	LogLevel              string // log_level

	ShutdownTimeout time.Duration // --shutdown-timeout
	RequestTimeout  time.Duration // --request-timeout

	// Start-up recovery, as Qdrant's flags of the same names: a full
	// snapshot (--storage-snapshot) and collection snapshots
	// (--snapshot PATH:COLLECTION, repeatable) recovered before serving;
	// existing collections are replaced only with --force-snapshot.
	StorageSnapshot string
	Snapshots       []snapshotArg
	ForceSnapshot   bool

	// grpcPortSet reports that service.grpc_port was configured.
	grpcPortSet bool
	// ignored lists the keys of the file and the environment that Strata
	// does not know, as "source: key".
	ignored []string
}

// defaults: loopback only (Qdrant listens on 0.0.0.0; --host opens up),
// Qdrant's ports and body limit.
// defaultMaxConcurrentRequests is 8 requests per core, at least 64: enough
// to keep every core busy and to batch many writers into one WAL fsync,
// few enough that an overload queues in front of the engine instead of
// inside it.
func defaultMaxConcurrentRequests() int { return max(64, 8*runtime.GOMAXPROCS(0)) }

func defaultConfig() config {
	return config{
		Host:                  "127.0.0.1",
		HTTPPort:              6333,
		GRPCPort:              6334,
		MaxRequestSizeMB:      32,
		MaxConcurrentRequests: defaultMaxConcurrentRequests(),
		StoragePath:           "./strata-data",
		LogLevel:              "info",
		ShutdownTimeout:       30 * time.Second,
	}
}

// setting is one configuration key: its name in the file (and, upper-cased
// with "__" for ".", in the environment) and how to set it from text.
type setting struct {
	key string
	set func(c *config, v string) error
}

func str(p func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error { *p(c) = v; return nil }
}

func integer(p func(*config) *int, min, max int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < min || n > max {
			return fmt.Errorf("expected an integer from %d to %d, got %q", min, max, v)
		}
		*p(c) = n
		return nil
	}
}

func boolean(p func(*config) *bool) func(*config, string) error {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("expected true or false, got %q", v)
		}
		*p(c) = b
		return nil
	}
}

var settings = []setting{
	{"service.host", str(func(c *config) *string { return &c.Host })},
	{"service.http_port", integer(func(c *config) *int { return &c.HTTPPort }, 0, 65535)},
	{"service.grpc_port", func(c *config, v string) error {
		c.grpcPortSet = true
		return integer(func(c *config) *int { return &c.GRPCPort }, 0, 65535)(c, v)
	}},
	{"service.api_key", str(func(c *config) *string { return &c.APIKey })},
	{"service.read_only_api_key", str(func(c *config) *string { return &c.ReadOnlyAPIKey })},
	{"service.max_request_size_mb", integer(func(c *config) *int { return &c.MaxRequestSizeMB }, 1, 1<<20)},
	{"service.max_concurrent_requests", integer(func(c *config) *int { return &c.MaxConcurrentRequests }, 0, 1<<20)},
	{"service.enable_tls", boolean(func(c *config) *bool { return &c.EnableTLS })},
	{"tls.cert", str(func(c *config) *string { return &c.TLSCert })},
	{"tls.key", str(func(c *config) *string { return &c.TLSKey })},
	{"storage.storage_path", str(func(c *config) *string { return &c.StoragePath })},
	{"log_level", str(func(c *config) *string { return &c.LogLevel })},
}

func lookupSetting(key string) (setting, bool) {
	i := slices.IndexFunc(settings, func(s setting) bool { return s.key == key })
	if i < 0 {
		return setting{}, false
	}
	return settings[i], true
}

// applyFile sets the keys of a YAML file. Null values are unset (as in
// Qdrant); unknown keys are recorded in c.ignored.
func (c *config) applyFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	flat := map[string]any{}
	flatten("", doc, flat)
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		v := flat[key]
		s, ok := lookupSetting(key)
		if !ok {
			c.ignored = append(c.ignored, path+": "+key)
			continue
		}
		if v == nil {
			continue
		}
		switch v.(type) {
		case map[string]any, []any:
			return fmt.Errorf("config %s: %s: expected a single value", path, key)
		}
		if err := s.set(c, fmt.Sprint(v)); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, key, err)
		}
	}
	return nil
}

// flatten turns nested maps into dotted keys.
func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatten(key, sub, out)
			continue
		}
		out[key] = v
	}
}

// envPrefix starts the environment variables that configure Strata:
// STRATA__SERVICE__HTTP_PORT sets service.http_port, as
// QDRANT__SERVICE__HTTP_PORT does for Qdrant.
const envPrefix = "STRATA__"

// applyEnv sets the keys given in the environment.
func (c *config) applyEnv(environ []string) error {
	slices.Sort(environ)
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		rest, isOurs := strings.CutPrefix(name, envPrefix)
		if !ok || !isOurs {
			continue
		}
		key := strings.ToLower(strings.ReplaceAll(rest, "__", "."))
		s, ok := lookupSetting(key)
		if !ok {
			c.ignored = append(c.ignored, "environment: "+name)
			continue
		}
		if err := s.set(c, v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// loadConfig builds the configuration: defaults, then the file named by
// --config, then the environment, then the flags given.
func loadConfig(args, environ []string, stderr io.Writer) (config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("strata serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: strata serve [flags]\n\nflags (each overrides its configuration key):\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nconfiguration keys (YAML file, or environment %sSECTION__KEY):\n", envPrefix)
		for _, s := range settings {
			fmt.Fprintf(stderr, "  %-32s %s%s\n", s.key, envPrefix, strings.ToUpper(strings.ReplaceAll(s.key, ".", "__")))
		}
	}
	d := defaultConfig()
	configPath := fs.String("config", "", "YAML configuration file with Qdrant's keys")
	flagKeys := map[string]string{ // flag name → configuration key
		"data-dir":                "storage.storage_path",
		"host":                    "service.host",
		"http-port":               "service.http_port",
		"grpc-port":               "service.grpc_port",
		"api-key":                 "service.api_key",
		"read-only-api-key":       "service.read_only_api_key",
		"max-request-size-mb":     "service.max_request_size_mb",
		"max-concurrent-requests": "service.max_concurrent_requests",
		"tls-cert":                "tls.cert",
		"tls-key":                 "tls.key",
		"log-level":               "log_level",
	}
	fs.String("data-dir", d.StoragePath, "data directory")
	fs.String("host", d.Host, "address to listen on (0.0.0.0 for every interface)")
	fs.Int("http-port", d.HTTPPort, "REST API port (0: a free port, logged at start)")
	fs.Int("grpc-port", d.GRPCPort, "gRPC API port")
	fs.String("api-key", "", "key required on every request but /, /healthz, /livez and /readyz")
	fs.String("read-only-api-key", "", "key allowing read requests only")
	fs.Int("max-request-size-mb", d.MaxRequestSizeMB, "largest request body, in MiB")
	fs.Int("max-concurrent-requests", d.MaxConcurrentRequests, "requests each API (REST, gRPC) handles at once; more wait for a slot until their timeout, then get 503 / RESOURCE_EXHAUSTED (0: no limit)")
	fs.String("tls-cert", "", "TLS certificate (PEM); with --tls-key, serves HTTPS")
	fs.String("tls-key", "", "TLS private key (PEM)")
	fs.String("log-level", d.LogLevel, "debug, info, warn or error")
	shutdown := fs.Duration("shutdown-timeout", d.ShutdownTimeout, "how long in-flight requests may run after SIGINT/SIGTERM")
	reqTimeout := fs.Duration("request-timeout", 0, "bound on every request (0: none; a request's ?timeout= can shorten it)")
	fs.StringVar(&c.StorageSnapshot, "storage-snapshot", "", "recover every collection of this full snapshot file before serving")
	fs.Func("snapshot", "`PATH:COLLECTION`: recover this collection snapshot file into COLLECTION before serving (repeatable)", func(v string) error {
		i := strings.LastIndexByte(v, ':') // a path may hold a colon, a name rarely does
		if i < 0 {
			return fmt.Errorf("expected PATH:COLLECTION, got %q", v)
		}
		path, name := v[:i], v[i+1:]
		if path == "" || name == "" {
			return fmt.Errorf("expected PATH:COLLECTION, got %q", v)
		}
		c.Snapshots = append(c.Snapshots, snapshotArg{path: path, collection: name})
		return nil
	})
	fs.BoolVar(&c.ForceSnapshot, "force-snapshot", false, "let --storage-snapshot and --snapshot replace existing collections")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *configPath != "" {
		if err := c.applyFile(*configPath); err != nil {
			return c, err
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return c, err
	}
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "shutdown-timeout":
			c.ShutdownTimeout = *shutdown
		case "request-timeout":
			c.RequestTimeout = *reqTimeout
		case "tls-cert", "tls-key":
			c.EnableTLS = true
			fallthrough
		default:
			if key, ok := flagKeys[f.Name]; ok {
				s, _ := lookupSetting(key)
				if err := s.set(&c, f.Value.String()); err != nil {
					errs = append(errs, fmt.Errorf("-%s: %w", f.Name, err))
				}
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.validate()
}

// snapshotArg is one --snapshot PATH:COLLECTION.
type snapshotArg struct {
	path, collection string
}

func (c *config) validate() error {
	if c.EnableTLS && (c.TLSCert == "" || c.TLSKey == "") {
		return errors.New("TLS is enabled but tls.cert or tls.key is missing (--tls-cert, --tls-key)")
	}
	if c.StoragePath == "" {
		return errors.New("storage.storage_path is empty")
	}
	if c.ShutdownTimeout < 0 || c.RequestTimeout < 0 {
		return errors.New("timeouts may not be negative")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	return nil
}

// parseLevel reads Qdrant's log levels (TRACE, DEBUG, INFO, WARN, ERROR,
// any case; only the first item of a "info,actix=warn" list counts).
func parseLevel(s string) (slog.Level, error) {
	first, _, _ := strings.Cut(s, ",")
	switch strings.ToLower(strings.TrimSpace(first)) {
	case "trace", "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "off":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level: unknown level %q (expected debug, info, warn or error)", s)
}
