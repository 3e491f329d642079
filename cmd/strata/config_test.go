package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestConfigPrecedence: flags > environment > file > defaults, key by key.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	yaml := `
log_level: DEBUG
service:
  host: 0.0.0.0
  http_port: 1111
  grpc_port: 7000
  api_key: from-file
  read_only_api_key: ~
  max_request_size_mb: 8
  enable_cors: true          # a Qdrant key Strata does not use
storage:
  storage_path: /file/path
  snapshots_path: ./snapshots
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"STRATA__SERVICE__HTTP_PORT=2222",
		"STRATA__SERVICE__API_KEY=from-env",
		"STRATA__STORAGE__STORAGE_PATH=/env/path",
		"STRATA__SERVICE__UNKNOWN=1",
		"QDRANT__SERVICE__HTTP_PORT=9999", // not ours
		"PATH=/bin",
	}
	args := []string{"--config", file, "--http-port", "3333", "--data-dir", "/flag/path", "--shutdown-timeout", "5s", "--request-timeout", "2s"}
	c, err := loadConfig(args, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := defaultConfig()
	want.LogLevel = "DEBUG"         // file
	want.Host = "0.0.0.0"           // file
	want.HTTPPort = 3333            // flag over env over file
	want.GRPCPort = 7000            // file
	want.APIKey = "from-env"        // env over file
	want.MaxRequestSizeMB = 8       // file
	want.StoragePath = "/flag/path" // flag
	want.ShutdownTimeout = 5 * time.Second
	want.RequestTimeout = 2 * time.Second
	got := c
	got.ignored, got.grpcPortSet = nil, false
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if !c.grpcPortSet {
		t.Error("grpc_port set in the file not noticed")
	}
	wantIgnored := []string{file + ": service.enable_cors", file + ": storage.snapshots_path", "environment: STRATA__SERVICE__UNKNOWN"}
	if !slices.Equal(c.ignored, wantIgnored) {
		t.Errorf("ignored %q, want %q", c.ignored, wantIgnored)
	}

	// Without flags the environment wins; without either, the file.
	c, err = loadConfig([]string{"--config", file}, env, io.Discard)
	if err != nil || c.HTTPPort != 2222 || c.StoragePath != "/env/path" {
		t.Fatalf("env over file: %+v %v", c, err)
	}
	c, err = loadConfig([]string{"--config", file}, nil, io.Discard)
	if err != nil || c.HTTPPort != 1111 || c.APIKey != "from-file" {
		t.Fatalf("file: %+v %v", c, err)
	}
	c, err = loadConfig(nil, nil, io.Discard)
	if err != nil || c.Host != "127.0.0.1" || c.HTTPPort != 6333 || c.StoragePath != "./strata-data" || c.ShutdownTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	// --tls-cert and --tls-key turn TLS on.
	c, err = loadConfig([]string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil, io.Discard)
	if err != nil || !c.EnableTLS || c.TLSCert != "c.pem" || c.TLSKey != "k.pem" {
		t.Fatalf("tls flags: %+v %v", c, err)
	}
	// A bad file.
	if err := os.WriteFile(file, []byte("service: [1, 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig([]string{"--config", file}, nil, io.Discard); err == nil {
		t.Fatal("bad YAML accepted")
	}
	if err := os.WriteFile(file, []byte("service:\n  http_port: [1]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig([]string{"--config", file}, nil, io.Discard); err == nil {
		t.Fatal("a list for a port accepted")
	}
}
