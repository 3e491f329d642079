package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/strata-db/strata"
	grpcapi "github.com/strata-db/strata/api/grpc"
	"github.com/strata-db/strata/api/rest"
)

// serve runs the REST and gRPC APIs until ctx is cancelled, then shuts
// down gracefully: stop accepting, let in-flight requests finish within
// ShutdownTimeout (then close their connections), close the database.
func serve(ctx context.Context, args, environ []string, stderr io.Writer) int {
	cfg, err := loadConfig(args, environ, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "strata serve: %v\n", err)
		return 2
	}
	level, _ := parseLevel(cfg.LogLevel)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	for _, k := range cfg.ignored {
		log.Warn("ignoring unknown configuration key", "key", k)
	}
	if err := runServer(ctx, &cfg, log); err != nil {
		log.Error("strata serve failed", "err", err)
		return 1
	}
	return 0
}

func runServer(ctx context.Context, cfg *config, log *slog.Logger) (err error) {
	var tlsCfg *tls.Config
	if cfg.EnableTLS {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("TLS: %w", err)
		}
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	// gRPC gets its own copy: the HTTP server edits its config (ALPN for
	// HTTP/2) when it starts serving.
	var grpcTLS *tls.Config
	if tlsCfg != nil {
		grpcTLS = tlsCfg.Clone()
	}
	db, err := strata.Open(cfg.StoragePath, &strata.Options{Logger: log.With("component", "engine")})
	if err != nil {
		return err
	}
	defer func() {
		// Close waits for in-flight writes and seals every collection.
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close the database: %w", cerr))
			return
		}
		log.Info("database closed")
	}()

	if err := recoverAtStart(ctx, db, cfg, log); err != nil {
		return err
	}

	started := time.Now()
	m := newMetrics(db, strataVersion(), cfg.MaxConcurrentRequests)
	handler := rest.New(db, rest.Options{
		MaxBodyBytes:          int64(cfg.MaxRequestSizeMB) << 20,
		Timeout:               cfg.RequestTimeout,
		Logger:                log,
		APIKey:                cfg.APIKey,
		ReadOnlyAPIKey:        cfg.ReadOnlyAPIKey,
		Version:               strataVersion(),
		MaxConcurrentRequests: cfg.MaxConcurrentRequests,
		Observer:              m.observeREST,
		Metrics:               m.handler(log),
		Responses:             m.restStats,
		GRPCResponses:         m.grpcStats,
		Started:               started,
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if ip := net.ParseIP(cfg.Host); cfg.APIKey == "" && cfg.ReadOnlyAPIKey == "" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("serving without an API key on a non-loopback address; set service.api_key")
	}
	served := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	log.Info("HTTP listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "data_dir", cfg.StoragePath, "version", strataVersion(),
		"max_concurrent_requests", cfg.MaxConcurrentRequests, "request_timeout", cfg.RequestTimeout)

	gopts := grpcapi.ServerOptions(cfg.MaxRequestSizeMB << 20)
	if grpcTLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(grpcTLS)))
	}
	gsrv := grpc.NewServer(gopts...)
	grpcapi.Register(gsrv, db, grpcapi.Options{
		APIKey:                cfg.APIKey,
		ReadOnlyAPIKey:        cfg.ReadOnlyAPIKey,
		Logger:                log,
		Timeout:               cfg.RequestTimeout,
		Version:               strataVersion(),
		MaxConcurrentRequests: cfg.MaxConcurrentRequests,
		Observer:              m.observeGRPC,
	})
	gln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.GRPCPort)))
	if err != nil {
		_ = srv.Close()
		return err
	}
	gserved := make(chan error, 1)
	go func() { gserved <- gsrv.Serve(gln) }()
	log.Info("gRPC listening", "addr", gln.Addr().String(), "tls", tlsCfg != nil)

	select {
	case err := <-served:
		gsrv.Stop()
		return fmt.Errorf("HTTP server: %w", err)
	case err := <-gserved:
		_ = srv.Close()
		return fmt.Errorf("gRPC server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Closing the connections cancels the requests' contexts; writes
		// already under way still finish or fail cleanly in db.Close.
		log.Warn("in-flight requests did not finish in time; closing their connections", "err", err)
		_ = srv.Close()
	}
	stopped := make(chan struct{})
	go func() { gsrv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-sctx.Done():
		log.Warn("in-flight gRPC calls did not finish in time; closing their connections")
		gsrv.Stop()
	}
	return nil
}

// recoverAtStart recovers the snapshots named by --storage-snapshot and
// --snapshot before the APIs start, as Qdrant does at start-up. Each is
// verified in full before it replaces anything; an existing collection is
// replaced only with --force-snapshot (for a full snapshot: the database
// must be empty without it).
func recoverAtStart(ctx context.Context, db *strata.DB, cfg *config, log *slog.Logger) error {
	if cfg.StorageSnapshot == "" && len(cfg.Snapshots) == 0 {
		return nil
	}
	existing, err := db.ListCollections(ctx)
	if err != nil {
		return err
	}
	if cfg.StorageSnapshot != "" {
		if len(existing) > 0 && !cfg.ForceSnapshot {
			return fmt.Errorf("--storage-snapshot: the database already has collections %q; add --force-snapshot to replace those the snapshot holds", existing)
		}
		f, err := os.Open(cfg.StorageSnapshot)
		if err != nil {
			return fmt.Errorf("--storage-snapshot: %w", err)
		}
		colls, err := db.RecoverFullSnapshot(ctx, f, strata.RecoverOptions{})
		f.Close()
		if err != nil {
			return fmt.Errorf("--storage-snapshot %s: %w", cfg.StorageSnapshot, err)
		}
		names := make([]string, len(colls))
		for i, c := range colls {
			names[i] = c.Name()
		}
		log.Info("recovered a full snapshot", "file", cfg.StorageSnapshot, "collections", names)
	}
	for _, s := range cfg.Snapshots {
		if _, err := db.Collection(s.collection); err == nil && !cfg.ForceSnapshot {
			return fmt.Errorf("--snapshot %s:%s: collection %q exists; add --force-snapshot to replace it", s.path, s.collection, s.collection)
		}
		f, err := os.Open(s.path)
		if err != nil {
			return fmt.Errorf("--snapshot: %w", err)
		}
		_, err = db.RecoverSnapshot(ctx, s.collection, f, strata.RecoverOptions{})
		f.Close()
		if err != nil {
			return fmt.Errorf("--snapshot %s:%s: %w", s.path, s.collection, err)
		}
		log.Info("recovered a collection snapshot", "file", s.path, "collection", s.collection)
	}
	return nil
}
