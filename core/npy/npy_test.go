package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func roundTripNPZ(t *testing.T, names []string, arrays []*Array, compressed bool) *Archive {
	t.Helper()
	var buf bytes.Buffer
	write := WriteNPZ
	if compressed {
		write = WriteNPZCompressed
	}
	if err := write(&buf, names, arrays); err != nil {
		t.Fatal(err)
	}
	ar, err := ReadNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ar.Names, names) {
		t.Fatalf("names %v, want %v", ar.Names, names)
	}
	return ar
}

func TestRoundTripNPZ(t *testing.T) {
	img := make([]uint8, 3*4*5*2)
	for i := range img {
		img[i] = uint8(i * 7)
	}
	lab := []int64{0, 9, -3}
	w := []float32{1.5, -0, float32(math.Inf(1)), 3.25e-20, -7, 0.1}
	f64 := []float64{math.Pi, -1e300}
	i32 := []int32{math.MinInt32, math.MaxInt32}
	bl := []bool{true, false}
	for _, compressed := range []bool{false, true} {
		ar := roundTripNPZ(t, []string{"image", "label", "conv.w", "d", "i", "b", "scalar"}, []*Array{
			NewUint8([]int{3, 4, 5, 2}, img),
			NewInt64([]int{3}, lab),
			NewFloat32([]int{2, 3}, w),
			NewFloat64([]int{2}, f64),
			NewInt32([]int{1, 2}, i32),
			NewBool([]int{2}, bl),
			NewFloat32([]int{}, []float32{42}),
		}, compressed)
		a, _ := ar.Get("image")
		if got, err := a.Uint8s(); err != nil || !bytes.Equal(got, img) || !reflect.DeepEqual(a.Shape, []int{3, 4, 5, 2}) || a.DType != Uint8 {
			t.Errorf("image: %v %v %v", a.Shape, a.DType, err)
		}
		a, _ = ar.Get("label")
		if got, err := a.Int64s(); err != nil || !reflect.DeepEqual(got, lab) {
			t.Errorf("label: %v %v", got, err)
		}
		a, _ = ar.Get("conv.w")
		got, err := a.Float32s()
		if err != nil || len(got) != len(w) {
			t.Fatalf("conv.w: %v %v", got, err)
		}
		for i := range w {
			if math.Float32bits(got[i]) != math.Float32bits(w[i]) {
				t.Errorf("conv.w[%d] = %v, want %v", i, got[i], w[i])
			}
		}
		a, _ = ar.Get("d")
		if got, err := a.Float64s(); err != nil || !reflect.DeepEqual(got, f64) {
			t.Errorf("d: %v %v", got, err)
		}
		a, _ = ar.Get("i")
		if got, err := a.Int64s(); err != nil || got[0] != math.MinInt32 || got[1] != math.MaxInt32 {
			t.Errorf("i: %v %v", got, err)
		}
		a, _ = ar.Get("b")
		if got, err := a.Bools(); err != nil || !reflect.DeepEqual(got, bl) {
			t.Errorf("b: %v %v", got, err)
		}
		a, _ = ar.Get("scalar")
		if got, err := a.Float32s(); err != nil || len(a.Shape) != 0 || len(got) != 1 || got[0] != 42 {
			t.Errorf("scalar: %v %v %v", a.Shape, got, err)
		}
	}
}

func TestTypedAccessorErrors(t *testing.T) {
	f := NewFloat32([]int{1}, []float32{1})
	if _, err := f.Uint8s(); err == nil {
		t.Error("Uint8s of <f4 gave no error")
	}
	if _, err := f.Int64s(); err == nil {
		t.Error("Int64s of <f4 gave no error")
	}
	if _, err := NewUint8([]int{1}, []uint8{1}).Bools(); err == nil {
		t.Error("Bools of |u1 gave no error")
	}
}

func TestNewPanicsOnShapeMismatch(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "[2 3]") {
			t.Fatalf("recover() = %v, want a panic naming the shape", r)
		}
	}()
	NewFloat32([]int{2, 3}, make([]float32, 5))
}

func TestHeaderAlignment(t *testing.T) {
	for _, shape := range [][]int{{}, {1}, {12345, 7, 3}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		var buf bytes.Buffer
		if err := WriteNPY(&buf, NewUint8(shape, make([]uint8, n))); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		hlen := int(binary.LittleEndian.Uint16(b[8:]))
		if (10+hlen)%64 != 0 || b[10+hlen-1] != '\n' {
			t.Errorf("shape %v: header length %d not 64-aligned or not ending in newline", shape, hlen)
		}
		if len(b) != 10+hlen+n {
			t.Errorf("shape %v: file is %d bytes, want %d", shape, len(b), 10+hlen+n)
		}
	}
}

// checkFixture checks the arrays that testdata/make_fixture.py writes.
func checkFixture(t *testing.T, ar *Archive) {
	t.Helper()
	want := []string{"image", "label", "w", "d", "i", "b", "s"}
	if !reflect.DeepEqual(ar.Names, want) {
		t.Fatalf("names %v, want %v", ar.Names, want)
	}
	img := ar.Arrays["image"]
	u, err := img.Uint8s()
	if err != nil || !reflect.DeepEqual(img.Shape, []int{2, 3, 4, 1}) {
		t.Fatalf("image: %v %v", img.Shape, err)
	}
	for i, v := range u {
		if int(v) != i%256 {
			t.Fatalf("image[%d] = %d, want %d", i, v, i)
		}
	}
	if l, err := ar.Arrays["label"].Int64s(); err != nil || !reflect.DeepEqual(l, []int64{7, -1}) || ar.Arrays["label"].DType != Int64 {
		t.Errorf("label: %v %v", l, err)
	}
	w := ar.Arrays["w"]
	f, err := w.Float32s()
	if err != nil || w.DType != Float32 || !reflect.DeepEqual(w.Shape, []int{2, 3}) {
		t.Fatalf("w: %v %v %v", w.Shape, w.DType, err)
	}
	for i, v := range f {
		if v != float32(i)*0.5-1 {
			t.Errorf("w[%d] = %v", i, v)
		}
	}
	if d, err := ar.Arrays["d"].Float64s(); err != nil || !reflect.DeepEqual(d, []float64{1.5, -2.25, 1e300}) {
		t.Errorf("d: %v %v", d, err)
	}
	if i, err := ar.Arrays["i"].Int64s(); err != nil || ar.Arrays["i"].DType != Int32 || !reflect.DeepEqual(i, []int64{-5, 6}) {
		t.Errorf("i: %v %v", i, err)
	}
	if b, err := ar.Arrays["b"].Bools(); err != nil || !reflect.DeepEqual(b, []bool{true, false, true}) {
		t.Errorf("b: %v %v", b, err)
	}
	if s, err := ar.Arrays["s"].Float32s(); err != nil || len(ar.Arrays["s"].Shape) != 0 || !reflect.DeepEqual(s, []float32{3}) {
		t.Errorf("s: %v %v", s, err)
	}
}

func readNPZFile(t *testing.T, path string) *Archive {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := ReadNPZ(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

// TestNumpyFixture reads the committed archives that numpy wrote (testdata/make_fixture.py).
func TestNumpyFixture(t *testing.T) {
	checkFixture(t, readNPZFile(t, "testdata/fixture.npz"))
	checkFixture(t, readNPZFile(t, "testdata/fixture_compressed.npz"))
	f, err := os.Open("testdata/fixture_v2.npy")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := ReadNPY(f)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.Int64s(); err != nil || !reflect.DeepEqual(v, []int64{0, 1, 2, 3, 4}) {
		t.Errorf("v2: %v %v", v, err)
	}
}

// needNumpy returns the python interpreter with numpy, or skips (fails when CI is set).
func needNumpy(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skipf("skipping: %s cannot start subprocesses; the native test run covers numpy interop", runtime.GOOS)
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but %s with numpy is missing: %v", py, err)
		}
		t.Skipf("skipping: %s with numpy not available (%v)", py, err)
	}
	return py
}

// TestNumpyInterop writes archives with numpy at test time and reads them, and has numpy read and
// check an archive written here.
func TestNumpyInterop(t *testing.T) {
	py := needNumpy(t)
	dir := t.TempDir()
	script, err := os.ReadFile("testdata/make_fixture.py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", string(script))
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	checkFixture(t, readNPZFile(t, filepath.Join(dir, "fixture.npz")))
	checkFixture(t, readNPZFile(t, filepath.Join(dir, "fixture_compressed.npz")))

	// numpy reads ours.
	img := make([]uint8, 2*28*28*1)
	for i := range img {
		img[i] = uint8(i % 251)
	}
	for _, compressed := range []bool{false, true} {
		var buf bytes.Buffer
		write := WriteNPZ
		if compressed {
			write = WriteNPZCompressed
		}
		if err := write(&buf, []string{"image", "label", "w"}, []*Array{
			NewUint8([]int{2, 28, 28, 1}, img),
			NewInt64([]int{2}, []int64{3, 8}),
			NewFloat32([]int{3}, []float32{0.25, -1, 1e-8}),
		}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "ours.npz")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		check := `
import numpy as np, sys
z = np.load(sys.argv[1])
assert list(z.keys()) == ["image", "label", "w"], list(z.keys())
im = z["image"]
assert im.dtype == np.uint8 and im.shape == (2, 28, 28, 1), (im.dtype, im.shape)
assert (im.reshape(-1) == (np.arange(im.size) % 251)).all()
assert z["label"].dtype == np.int64 and list(z["label"]) == [3, 8]
assert z["w"].dtype == np.float32 and (z["w"] == np.array([0.25, -1, 1e-8], np.float32)).all()
`
		if out, err := exec.Command(py, "-c", check, path).CombinedOutput(); err != nil {
			t.Fatalf("numpy could not read our npz (compressed=%v): %v\n%s", compressed, err, out)
		}
	}
}

func npyBytes(version byte, header string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteByte(version)
	b.WriteByte(0)
	if version == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(header)))
	}
	b.WriteString(header)
	b.Write(body)
	return b.Bytes()
}

func TestReadNPYErrors(t *testing.T) {
	cases := []struct {
		name, want string
		in         []byte
	}{
		{"empty", "magic", nil},
		{"bad magic", "magic", []byte("\x93NUMPZ\x01\x00\x00\x00")},
		{"version 4", "version 4.0", []byte("\x93NUMPY\x04\x00\x00\x00")},
		{"truncated header", "header", npyBytes(1, "{'descr': '<f4'", nil)[:15]},
		{"fortran", "fortran_order True", npyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", make([]byte, 4))},
		{"big endian", "big-endian", npyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", make([]byte, 4))},
		{"empty descr", "dtype", npyBytes(1, "{'descr': '', 'fortran_order': False, 'shape': (1,), }", make([]byte, 4))},
		{"complex", "unsupported dtype", npyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", make([]byte, 8))},
		{"structured", "structured", npyBytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", make([]byte, 4))},
		{"negative dim", "non-negative", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", nil)},
		{"huge shape", "truncated", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 10), }", make([]byte, 64))},
		{"overflow", "too large", npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", nil)},
		{"truncated data", "unexpected EOF", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", make([]byte, 11))},
		{"missing key", "lacks", npyBytes(1, "{'descr': '<f4', 'shape': (3,), }", make([]byte, 12))},
		{"unknown key", "unexpected key", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", make([]byte, 12))},
		{"v2 header too long", "exceeds", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff")},
	}
	for _, c := range cases {
		_, err := ReadNPY(bytes.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "npy: ") {
			t.Errorf("%s: err = %v, want an npy: error containing %q", c.name, err, c.want)
		}
	}
}

func TestReadNPZErrors(t *testing.T) {
	var good bytes.Buffer
	if err := WriteNPZ(&good, []string{"x"}, []*Array{NewFloat32([]int{1000}, make([]float32, 1000))}); err != nil {
		t.Fatal(err)
	}
	b := good.Bytes()
	// Truncations anywhere give an error, never a panic.
	for _, n := range []int{0, 10, 100, len(b) / 2, len(b) - 1} {
		if _, err := ReadNPZ(bytes.NewReader(b[:n]), int64(n)); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	// A flipped data byte fails the CRC.
	c := append([]byte(nil), b...)
	c[200] ^= 0xff
	if _, err := ReadNPZ(bytes.NewReader(c), int64(len(c))); err == nil {
		t.Error("corrupted data: no error")
	}
}

func FuzzReadNPY(f *testing.F) {
	var buf bytes.Buffer
	WriteNPY(&buf, NewFloat32([]int{2, 2}, []float32{1, 2, 3, 4}))
	f.Add(buf.Bytes())
	buf.Reset()
	WriteNPY(&buf, NewUint8([]int{}, []uint8{1}))
	f.Add(buf.Bytes())
	f.Add(npyBytes(2, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", make([]byte, 16)))
	f.Add(npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 10), }", nil))
	f.Add(npyBytes(1, "{'descr': '', 'fortran_order': False, 'shape': (1,), }", nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := ReadNPY(bytes.NewReader(in))
		if err != nil {
			return
		}
		if int64(len(a.Bytes())) > int64(len(in)) {
			t.Fatalf("array of %d bytes from %d bytes of input", len(a.Bytes()), len(in))
		}
		var out bytes.Buffer
		if err := WriteNPY(&out, a); err != nil {
			t.Fatal(err)
		}
		b, err := ReadNPY(&out)
		if err != nil || !reflect.DeepEqual(a.Shape, b.Shape) || a.DType != b.DType || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("re-read: %v", err)
		}
	})
}

func FuzzReadNPZ(f *testing.F) {
	for _, compressed := range []bool{false, true} {
		var buf bytes.Buffer
		write := WriteNPZ
		if compressed {
			write = WriteNPZCompressed
		}
		write(&buf, []string{"image", "label"}, []*Array{NewUint8([]int{1, 2, 2, 1}, []uint8{1, 2, 3, 4}), NewInt64([]int{1}, []int64{3})})
		f.Add(buf.Bytes())
	}
	if b, err := os.ReadFile("testdata/fixture_compressed.npz"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ar, err := ReadNPZ(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			return
		}
		total := 0
		for _, a := range ar.Arrays {
			total += len(a.Bytes())
		}
		if total > 1100*len(in)+4096 {
			t.Fatalf("%d bytes of arrays from %d bytes of input", total, len(in))
		}
	})
}

func BenchmarkReadNPZ(b *testing.B) {
	w := make([]float32, 1<<20)
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, []string{"w"}, []*Array{NewFloat32([]int{1 << 20}, w)}); err != nil {
		b.Fatal(err)
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		ar, err := ReadNPZ(bytes.NewReader(in), int64(len(in)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ar.Arrays["w"].Float32s(); err != nil {
			b.Fatal(err)
		}
	}
}
