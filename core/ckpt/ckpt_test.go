package ckpt

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/cdp-project/cdp/core/optim"
)

type testConfig struct {
	Channels []int `json:"channels"`
	Classes  int   `json:"classes"`
}

type testMeta struct {
	Step int64             `json:"step"`
	Seed uint64            `json:"seed"`
	Args []string          `json:"args"`
	Data map[string]string `json:"data"`
}

func sample(t testing.TB) *Checkpoint {
	t.Helper()
	c, err := New("unet-tiny", testConfig{Channels: []int{32, 64}, Classes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetMeta(testMeta{Step: 1234, Seed: 7, Args: []string{"--lr", "2e-4"}, Data: map[string]string{"mnist": "sha256:abc"}}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	w := make([]float32, 2*3*8*8)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	w[0] = float32(math.Inf(-1))
	w[1] = float32(math.Copysign(0, -1))
	c.AddFloat32("down.0.conv.w", []int{2, 3, 8, 8}, w)
	c.AddFloat32("scalar", nil, []float32{0.5})
	c.AddFloat32("empty", []int{0, 4}, []float32{})
	c.AddInt64("optim/step", []int{1}, []int64{-3 << 40})
	pcg := rand.NewPCG(9, 10)
	state, err := pcg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c.AddBytes("rng", state)
	return c
}

func encode(t testing.TB, c *Checkpoint) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, c); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	c := sample(t)
	b := encode(t, c)
	if got := binary.LittleEndian.Uint64(b[12:]); got != uint64(len(b)) {
		t.Fatalf("declared length %d, file %d bytes", got, len(b))
	}
	for name, dec := range map[string]func() (*Checkpoint, error){
		"Decode":   func() (*Checkpoint, error) { return Decode(bytes.NewReader(b)) },
		"DecodeAt": func() (*Checkpoint, error) { return DecodeAt(bytes.NewReader(b), int64(len(b))) },
	} {
		d, err := dec()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d.Arch != c.Arch || !bytes.Equal(d.Config, c.Config) || !bytes.Equal(d.Meta, c.Meta) || len(d.Tensors) != len(c.Tensors) {
			t.Fatalf("%s: header differs: %q %s %s", name, d.Arch, d.Config, d.Meta)
		}
		for i := range c.Tensors {
			a, b := &c.Tensors[i], &d.Tensors[i]
			if a.Name != b.Name || a.DType != b.DType || !reflect.DeepEqual(append([]int{}, a.Shape...), append([]int{}, b.Shape...)) || a.Len() != b.Len() {
				t.Fatalf("%s: tensor %d: %+v vs %+v", name, i, a, b)
			}
			for j := range a.F32 {
				if math.Float32bits(a.F32[j]) != math.Float32bits(b.F32[j]) {
					t.Fatalf("%s: %s[%d] = %v, want %v", name, a.Name, j, b.F32[j], a.F32[j])
				}
			}
			if !reflect.DeepEqual(a.I64, b.I64) || !bytes.Equal(a.Raw, b.Raw) {
				t.Fatalf("%s: tensor %s data differs", name, a.Name)
			}
		}
		var cfg testConfig
		var meta testMeta
		if err := d.DecodeConfig(&cfg); err != nil || cfg.Classes != 10 || len(cfg.Channels) != 2 {
			t.Fatalf("%s: config %+v, %v", name, cfg, err)
		}
		if err := d.DecodeMeta(&meta); err != nil || meta.Step != 1234 || meta.Data["mnist"] != "sha256:abc" {
			t.Fatalf("%s: meta %+v, %v", name, meta, err)
		}
		if err := d.CheckArch("unet-tiny"); err != nil {
			t.Fatal(err)
		}
		// The RNG state restores the generator.
		raw, err := d.Bytes("rng")
		if err != nil {
			t.Fatal(err)
		}
		var pcg rand.PCG
		if err := pcg.UnmarshalBinary(raw); err != nil {
			t.Fatal(err)
		}
		if want := rand.NewPCG(9, 10).Uint64(); pcg.Uint64() != want {
			t.Fatalf("%s: restored RNG differs", name)
		}
		if !bytes.Equal(encode(t, d), b) {
			t.Fatalf("%s: re-encoding differs", name)
		}
	}
}

// TestDecodeStream: Decode reads exactly one checkpoint, so two can follow
// each other in a stream.
func TestDecodeStream(t *testing.T) {
	a := sample(t)
	b, _ := New("unet-small", nil)
	b.AddFloat32("x", []int{2}, []float32{1, 2})
	r := bytes.NewReader(append(encode(t, a), encode(t, b)...))
	for _, want := range []string{"unet-tiny", "unet-small"} {
		c, err := Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		if c.Arch != want {
			t.Fatalf("arch %q, want %q", c.Arch, want)
		}
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes left", r.Len())
	}
}

func decodeErr(t *testing.T, b []byte) (error, error) {
	t.Helper()
	_, err1 := Decode(bytes.NewReader(b))
	_, err2 := DecodeAt(bytes.NewReader(b), int64(len(b)))
	return err1, err2
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestTruncated(t *testing.T) {
	b := encode(t, sample(t))
	e1, e2 := decodeErr(t, b[:1234])
	want := "ckpt: file is truncated (read 1234 of " + itoa(len(b)) + " bytes)"
	wantErr(t, e1, want)
	wantErr(t, e2, want)
	e1, e2 = decodeErr(t, b[:5])
	wantErr(t, e1, "ckpt: file is truncated (read 5 of at least 40 bytes)")
	wantErr(t, e2, "ckpt: file is truncated (read 5 of at least 40 bytes)")
	for n := range len(b) {
		e1, e2 := decodeErr(t, b[:n])
		if e1 == nil || e2 == nil || !strings.Contains(e1.Error(), "truncated") || !strings.Contains(e2.Error(), "truncated") {
			t.Fatalf("prefix of %d bytes: errors %v, %v", n, e1, e2)
		}
	}
	_, err := DecodeAt(bytes.NewReader(append(b, 0, 0)), int64(len(b)+2))
	wantErr(t, err, "ckpt: 2 unexpected bytes after the end of the checkpoint ("+itoa(len(b))+" bytes)")
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestCorrupt(t *testing.T) {
	b := encode(t, sample(t))
	// Flip one bit in the body, in a tensor and in the checksum.
	for _, at := range []int{30, len(b) / 2, len(b) - 10, len(b) - 1} {
		c := bytes.Clone(b)
		c[at] ^= 0x10
		e1, e2 := decodeErr(t, c)
		for _, err := range []error{e1, e2} {
			if err == nil || !strings.HasPrefix(err.Error(), "ckpt: checksum mismatch") {
				t.Fatalf("bit flip at %d: error %v", at, err)
			}
		}
	}
	// Every single-byte change is refused.
	for at := range b {
		c := bytes.Clone(b)
		c[at] ^= 0xff
		if e1, e2 := decodeErr(t, c); e1 == nil || e2 == nil {
			t.Fatalf("byte %d changed: errors %v, %v", at, e1, e2)
		}
	}
	c := bytes.Clone(b)
	copy(c, "NOTACKPT")
	e1, _ := decodeErr(t, c)
	wantErr(t, e1, "ckpt: not a cdp checkpoint (bad magic)")
}

func TestVersion(t *testing.T) {
	b := encode(t, sample(t))
	binary.LittleEndian.PutUint32(b[8:], 3)
	e1, e2 := decodeErr(t, b)
	wantErr(t, e1, "ckpt: version 3 not supported (this build reads 1)")
	wantErr(t, e2, "ckpt: version 3 not supported (this build reads 1)")
}

func TestArchitecture(t *testing.T) {
	c, err := Decode(bytes.NewReader(encode(t, sample(t))))
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, c.CheckArch("unet-small"), "ckpt: architecture unet-tiny does not match unet-small")
}

// seal rewrites the declared length and the checksum of b so that the
// parser behind them sees b's body.
func seal(b []byte) []byte {
	b = bytes.Clone(b)
	if len(b) < preludeLen+4 {
		return b
	}
	binary.LittleEndian.PutUint64(b[12:], uint64(len(b)))
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	return b
}

// hostile builds a small file whose single tensor declares dims with a valid
// checksum. Offsets: 20 arch length, 24 arch "x", 25 config length, 29 meta
// length, 33 tensor count, 37 name length, 41 name "w", 42 dtype, 43 rank,
// 44 dims.
func hostile(dims ...uint64) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString(magic)
	b.Write(le.AppendUint32(nil, Version))
	b.Write(make([]byte, 8))
	b.Write(le.AppendUint32(nil, 1))
	b.WriteString("x")
	b.Write(le.AppendUint32(nil, 0))
	b.Write(le.AppendUint32(nil, 0))
	b.Write(le.AppendUint32(nil, 1)) // one tensor
	b.Write(le.AppendUint32(nil, 1))
	b.WriteString("w")
	b.WriteByte(byte(Float32))
	b.WriteByte(byte(len(dims)))
	for _, d := range dims {
		b.Write(le.AppendUint64(nil, d))
	}
	b.Write(make([]byte, 64)) // some data
	b.Write(make([]byte, 4))
	return seal(b.Bytes())
}

func TestHostileSizes(t *testing.T) {
	cases := map[string][]byte{
		"huge dim":    hostile(1 << 40),
		"overflow":    hostile(1<<32, 1<<32, 1<<32),
		"max uint64":  hostile(math.MaxUint64),
		"beyond data": hostile(17),
		"many dims":   hostile(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
		"huge length": func() []byte { b := hostile(2); binary.LittleEndian.PutUint64(b[12:], 1<<62); return b }(),
		"huge count":  func() []byte { b := hostile(2); binary.LittleEndian.PutUint32(b[33:], math.MaxUint32); return seal(b) }(),
		"huge string": func() []byte {
			b := hostile(2)
			binary.LittleEndian.PutUint32(b[20:], math.MaxUint32-1)
			return seal(b)
		}(),
		"bad dtype":    func() []byte { b := hostile(2); b[42] = 9; return seal(b) }(),
		"trailing":     hostile(2),
		"name is junk": func() []byte { b := hostile(2); b[41] = 0xff; return seal(b) }(),
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for name, b := range cases {
		e1, e2 := decodeErr(t, b)
		if e1 == nil || e2 == nil || !strings.HasPrefix(e1.Error(), "ckpt: ") {
			t.Errorf("%s: errors %v, %v", name, e1, e2)
		} else {
			t.Logf("%s: %v", name, e1)
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 16<<20 {
		t.Fatalf("hostile headers allocated %d bytes", d)
	}
	// A sound file built the same way decodes.
	good := hostile(4, 4)
	if _, err := Decode(bytes.NewReader(good)); err != nil {
		t.Fatalf("sound file: %v", err)
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	cases := map[string]*Checkpoint{
		"duplicate": {Tensors: []Tensor{{Name: "a", DType: Bytes, Shape: []int{0}}, {Name: "a", DType: Bytes, Shape: []int{0}}}},
		"shape":     {Tensors: []Tensor{{Name: "a", DType: Float32, Shape: []int{3}, F32: make([]float32, 2)}}},
		"dtype":     {Tensors: []Tensor{{Name: "a", DType: 7}}},
		"config":    {Config: []byte("{")},
		"meta":      {Meta: []byte("nope")},
	}
	for name, c := range cases {
		if err := Encode(io.Discard, c); err == nil || !strings.HasPrefix(err.Error(), "ckpt: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	c := sample(t)
	if _, _, err := c.Float32("rng"); err == nil || err.Error() != `ckpt: tensor "rng" is bytes, not float32` {
		t.Errorf("error %v", err)
	}
	if _, _, err := c.Int64("missing"); err == nil || err.Error() != `ckpt: no tensor "missing"` {
		t.Errorf("error %v", err)
	}
	w, shape, err := c.Float32("down.0.conv.w")
	if err != nil || len(w) != 384 || !reflect.DeepEqual(shape, []int{2, 3, 8, 8}) {
		t.Errorf("Float32: %d values, shape %v, %v", len(w), shape, err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("adding a duplicate name did not panic")
			}
		}()
		c.AddBytes("rng", nil)
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a shape mismatch did not panic")
			}
		}()
		c.AddFloat32("bad", []int{2, 2}, make([]float32, 3))
	}()
}

// TestOptimStateResume saves Adam's state in a checkpoint and resumes from
// the decoded copy: the trajectory matches the uninterrupted one bit for bit.
func TestOptimStateResume(t *testing.T) {
	const n = 29
	rng := rand.New(rand.NewPCG(2, 3))
	w0 := make([]float32, n)
	dws := make([][]float32, 12)
	for i := range w0 {
		w0[i] = float32(rng.NormFloat64())
	}
	for k := range dws {
		dws[k] = make([]float32, n)
		for i := range dws[k] {
			dws[k][i] = float32(rng.NormFloat64())
		}
	}
	straight := append([]float32(nil), w0...)
	o := optim.NewAdamW(n, 1e-2, 0.9, 0.999, 1e-8, 0.01, nil)
	for _, dw := range dws {
		o.Step(straight, dw)
	}

	w := append([]float32(nil), w0...)
	o = optim.NewAdamW(n, 1e-2, 0.9, 0.999, 1e-8, 0.01, nil)
	ema := optim.NewEMA(w, 0.9, true)
	for _, dw := range dws[:5] {
		o.Step(w, dw)
		ema.Update(w)
	}
	c, _ := New("toy", nil)
	c.AddFloat32("w", []int{n}, w)
	c.AddOptimState("optim", o.State())
	c.AddOptimState("ema", ema.State())
	d, err := Decode(bytes.NewReader(encode(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	w2, _, err := d.Float32("w")
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.OptimState("optim")
	if err != nil {
		t.Fatal(err)
	}
	if st.Kind != "adamw" || st.Step != 5 || len(st.Buffers) != 2 {
		t.Fatalf("state %s step %d with %d buffers", st.Kind, st.Step, len(st.Buffers))
	}
	o2 := optim.NewAdamW(n, 1e-2, 0.9, 0.999, 1e-8, 0.01, nil)
	if err := o2.SetState(st); err != nil {
		t.Fatal(err)
	}
	for _, dw := range dws[5:] {
		o2.Step(w2, dw)
	}
	for i := range straight {
		if math.Float32bits(straight[i]) != math.Float32bits(w2[i]) {
			t.Fatalf("param %d: %v resumed, %v straight", i, w2[i], straight[i])
		}
	}
	es, err := d.OptimState("ema")
	if err != nil {
		t.Fatal(err)
	}
	ema2 := optim.NewEMA(make([]float32, n), 0.9, true)
	if err := ema2.SetState(es); err != nil || ema2.Steps() != 5 || !reflect.DeepEqual(ema2.W, ema.W) {
		t.Fatalf("EMA state: %v", err)
	}
	if _, err := d.OptimState("nothing"); err == nil {
		t.Fatal("no error for a missing state")
	}
}
