package main

import (
	"io"
	"net/http/httptest"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	cfg, err := configFromEnv(env(map[string]string{"POD_NAME": "echo-1", "NODE_NAME": "node-2"}))
	if err != nil || cfg.Addr != ":8080" || cfg.Pod != "echo-1" || cfg.Node != "node-2" {
		t.Fatalf("defaults: got %+v, %v", cfg, err)
	}
	cfg, err = configFromEnv(env(map[string]string{"PORT": "9090", "LISTEN_ADDRESS": "127.0.0.1"}))
	if err != nil || cfg.Addr != "127.0.0.1:9090" || cfg.Pod != "unknown" {
		t.Fatalf("port and address: got %+v, %v", cfg, err)
	}
	for _, bad := range []string{"0", "65536", "http", "-1"} {
		if _, err := configFromEnv(env(map[string]string{"PORT": bad})); err == nil {
			t.Errorf("PORT %q accepted", bad)
		}
	}
}

func TestHandler(t *testing.T) {
	h := handler(config{Pod: "echo-1", Node: "node-2"})
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/", 200, "echo-1 on node-2\n"},
		{"GET", "/healthz", 200, "ok\n"},
		{"GET", "/other", 404, "404 page not found\n"},
		{"POST", "/", 405, "method not allowed\n"},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != c.status || string(body) != c.body {
			t.Errorf("%s %s: got %d %q, want %d %q", c.method, c.path, rec.Code, body, c.status, c.body)
		}
	}
}
