package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cdp-project/cdp/core/ckpt"
	"github.com/cdp-project/cdp/native/store"
	"github.com/cdp-project/cdp/simd"
)

// readCheckpoint reads and verifies a checkpoint file.
func readCheckpoint(path string) (*ckpt.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	c, err := ckpt.DecodeAt(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// runState prepares --out for a resumable job whose state lives in
// out/name: with resume it reads that state; without, it refuses to replace
// one, so that an earlier run is never lost by accident.
func runState(out, name string, resume bool) (path string, state *ckpt.Checkpoint, err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", nil, fmt.Errorf("--out: %w", err)
	}
	path = filepath.Join(out, name)
	if resume {
		state, err = readCheckpoint(path)
		return path, state, err
	}
	if _, err := os.Stat(path); err == nil {
		return "", nil, fmt.Errorf("%s already exists: pass --resume to continue that run, or choose another --out", path)
	}
	return path, nil, nil
}

// writeCheckpoint replaces path atomically: a crash leaves the old file.
func writeCheckpoint(path string, c *ckpt.Checkpoint) error {
	return store.WriteFileAtomic(path, func(w io.Writer) error { return ckpt.Encode(w, c) })
}

// writeJSONFile writes v as indented JSON, atomically.
func writeJSONFile(path string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return store.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err })
}

// interruptContext is cancelled on Ctrl-C or SIGTERM, so long jobs can save
// and exit cleanly; a second Ctrl-C kills the process.
func interruptContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
			fmt.Fprintln(os.Stderr, "\ninterrupt: finishing the current step and saving (Ctrl-C again to abort)")
			cancel()
			<-ch
			os.Exit(130)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

func seededRNG(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

func simdImpl() string { return simd.Impl() }
