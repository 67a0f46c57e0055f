// echo is the lab's backend: GET / answers "<POD_NAME> on <NODE_NAME>\n" (the pod sets both from
// the downward API), GET /healthz answers 200 for probes. It logs one JSON line when it starts
// and exits 0 on SIGTERM or SIGINT after in-flight requests finish.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

var version = "dev"

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		logger.Error("bad configuration", "error", err.Error())
		os.Exit(2)
	}
	if err := run(cfg, logger); err != nil {
		logger.Error("server failed", "addr", cfg.Addr, "error", err.Error())
		os.Exit(1)
	}
}

func run(cfg config, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	listener, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	// A short idle time-out, so a client's kept-alive connection to a VIP does not stay on the old
	// node's backend across a failover.
	srv := &http.Server{Handler: handler(cfg), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Second}
	logger.Info("listening", "addr", listener.Addr().String(), "pod", cfg.Pod, "node", cfg.Node, "version", version)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type config struct {
	Addr string
	Pod  string
	Node string
}

// configFromEnv reads PORT (default 8080), POD_NAME and NODE_NAME; a PORT that is not a TCP port
// is an error naming the value.
func configFromEnv(getenv func(string) string) (config, error) {
	port := 8080
	if raw := getenv("PORT"); raw != "" {
		p, err := strconv.Atoi(raw)
		if err != nil || p < 1 || p > 65535 {
			return config{}, fmt.Errorf("PORT %q: not a TCP port (1-65535)", raw)
		}
		port = p
	}
	return config{
		Addr: net.JoinHostPort(getenv("LISTEN_ADDRESS"), strconv.Itoa(port)),
		Pod:  orUnknown(getenv("POD_NAME")),
		Node: orUnknown(getenv("NODE_NAME")),
	}, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func handler(cfg config) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s on %s\n", cfg.Pod, cfg.Node)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return mux
}
