package main

import (
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "serve the browser page (www/) on a loopback address",
		usage:   "[--addr 127.0.0.1:8080] [--dir www]",
		run:     runServe,
	})
}

func runServe(e *env, args []string) error {
	fs := e.flags()
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address to listen on")
	dir := fs.String("dir", "www", "folder to serve (build it with ./build.sh wasm)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usagef("--addr %q: %v", *addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usagef("--addr %q: only loopback addresses are served (127.0.0.1, ::1, localhost)", *addr)
	}
	if _, err := os.Stat(filepath.Join(*dir, "index.html")); err != nil {
		return fmt.Errorf("no page to serve: %v (run ./build.sh wasm first)", err)
	}
	if _, err := os.Stat(filepath.Join(*dir, "cdp.wasm")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(e.stderr, "warning: %s/cdp.wasm is missing: run ./build.sh wasm\n", *dir)
	}
	_ = mime.AddExtensionType(".wasm", "application/wasm")
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "serving %s on http://%s/ (Ctrl-C to stop)\n", *dir, ln.Addr())
	srv := &http.Server{Handler: http.FileServer(http.Dir(*dir)), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}
