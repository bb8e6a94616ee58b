package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomicCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.ckpt")
	for _, content := range []string{"first version", "second, longer version of the file"} {
		err := WriteFileAtomic(path, func(w io.Writer) error {
			_, err := io.WriteString(w, content)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("file holds %q, want %q", got, content)
		}
		if names := listDir(t, dir); len(names) != 1 || names[0] != "model.ckpt" {
			t.Fatalf("directory holds %v, want only model.ckpt", names)
		}
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode().Perm())
		}
		// An existing file's permissions are kept.
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := WriteFileAtomic(path, func(w io.Writer) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v after replace, want 0600", st.Mode().Perm())
		}
	}
}

// TestWriteFileAtomicFailingWriter: a writer that fails half-way leaves the
// existing file as it was and no temporary file behind.
func TestWriteFileAtomicFailingWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "weights.bin")
	old := strings.Repeat("old contents ", 1000)
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		// More than the buffer size, so part of it reaches the temp file.
		if _, err := w.Write(make([]byte, 200000)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "store: ") {
		t.Fatalf("error %v, want one wrapping boom with the store prefix", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != old {
		t.Fatalf("existing file changed (%d bytes)", len(got))
	}
	if names := listDir(t, dir); len(names) != 1 || names[0] != "weights.bin" {
		t.Fatalf("directory holds %v, want only weights.bin", names)
	}
	// With no file there before, a failure leaves nothing.
	fresh := filepath.Join(dir, "fresh.bin")
	if err := WriteFileAtomic(fresh, func(w io.Writer) error { return boom }); err == nil {
		t.Fatal("no error")
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatalf("fresh.bin exists after a failed write: %v", err)
	}
}

func TestWriteFileAtomicBadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(w io.Writer) error { return nil }
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), write); err == nil {
		t.Error("no error for a missing directory")
	}
	if err := WriteFileAtomic(dir, write); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("error %v for a directory", err)
	}
	if err := WriteFileAtomic(dir+string(filepath.Separator), write); err == nil {
		t.Error("no error for a path ending in a separator")
	}
}
