package ckpt

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"unicode/utf8"
)

// Version is the format version this build writes and reads.
const Version = 1

const (
	magic      = "CDPCKPT\x00"
	preludeLen = 8 + 4 + 8 // magic, version, length
	minLen     = preludeLen + 4*4 + 4
	maxDims    = 32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DType is the element type of a tensor.
type DType uint8

// The element types.
const (
	Float32 DType = 1
	Int64   DType = 2
	Bytes   DType = 3
)

func (d DType) size() int {
	switch d {
	case Float32:
		return 4
	case Int64:
		return 8
	case Bytes:
		return 1
	}
	return 0
}

// String names the type: "float32", "int64" or "bytes".
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	case Bytes:
		return "bytes"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Tensor is a named n-d array. Exactly the slice that matches DType is used.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	F32   []float32 // DType Float32
	I64   []int64   // DType Int64
	Raw   []byte    // DType Bytes
}

// Len returns the number of elements that the data slice holds.
func (t *Tensor) Len() int {
	switch t.DType {
	case Float32:
		return len(t.F32)
	case Int64:
		return len(t.I64)
	case Bytes:
		return len(t.Raw)
	}
	return 0
}

// Checkpoint is the content of a checkpoint file.
type Checkpoint struct {
	// Arch names the model architecture, e.g. "unet-small".
	Arch string
	// Config is the model configuration as JSON (may be empty).
	Config json.RawMessage
	// Meta is free-form metadata as JSON (may be empty): step, seed,
	// arguments, data provenance.
	Meta json.RawMessage
	// Tensors in file order, with unique names.
	Tensors []Tensor
}

// New returns an empty checkpoint for arch with config marshalled to JSON.
func New(arch string, config any) (*Checkpoint, error) {
	c := &Checkpoint{Arch: arch}
	if config != nil {
		b, err := json.Marshal(config)
		if err != nil {
			return nil, fmt.Errorf("ckpt: config: %w", err)
		}
		c.Config = b
	}
	return c, nil
}

// SetMeta marshals v to JSON as the metadata.
func (c *Checkpoint) SetMeta(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ckpt: metadata: %w", err)
	}
	c.Meta = b
	return nil
}

// DecodeMeta unmarshals the metadata into v.
func (c *Checkpoint) DecodeMeta(v any) error {
	if len(c.Meta) == 0 {
		return errors.New("ckpt: checkpoint has no metadata")
	}
	if err := json.Unmarshal(c.Meta, v); err != nil {
		return fmt.Errorf("ckpt: metadata: %w", err)
	}
	return nil
}

// DecodeConfig unmarshals the model configuration into v.
func (c *Checkpoint) DecodeConfig(v any) error {
	if len(c.Config) == 0 {
		return errors.New("ckpt: checkpoint has no model configuration")
	}
	if err := json.Unmarshal(c.Config, v); err != nil {
		return fmt.Errorf("ckpt: config: %w", err)
	}
	return nil
}

// CheckArch returns an error unless the checkpoint is for architecture want.
func (c *Checkpoint) CheckArch(want string) error {
	if c.Arch != want {
		return fmt.Errorf("ckpt: architecture %s does not match %s", c.Arch, want)
	}
	return nil
}

// numel is numelChecked for a programmer's shape: it panics on a negative
// dimension.
func numel(shape []int) int {
	n := numelChecked(shape)
	if n < 0 {
		panic(fmt.Sprintf("ckpt: negative dimension in shape %v", shape))
	}
	return n
}

func (c *Checkpoint) add(t Tensor) {
	if c.Tensor(t.Name) != nil {
		panic(fmt.Sprintf("ckpt: tensor %q added twice", t.Name))
	}
	if n := numel(t.Shape); n != t.Len() {
		panic(fmt.Sprintf("ckpt: tensor %q has shape %v (%d elements) but %d values", t.Name, t.Shape, n, t.Len()))
	}
	c.Tensors = append(c.Tensors, t)
}

// AddFloat32 appends a float32 tensor. The checkpoint keeps data, not a copy.
// It panics when the name is taken or shape does not match len(data).
func (c *Checkpoint) AddFloat32(name string, shape []int, data []float32) {
	c.add(Tensor{Name: name, DType: Float32, Shape: append([]int(nil), shape...), F32: data})
}

// AddInt64 appends an int64 tensor (step counts, seeds).
func (c *Checkpoint) AddInt64(name string, shape []int, data []int64) {
	c.add(Tensor{Name: name, DType: Int64, Shape: append([]int(nil), shape...), I64: data})
}

// AddBytes appends a byte string as a 1-d tensor (a marshalled RNG state).
func (c *Checkpoint) AddBytes(name string, data []byte) {
	c.add(Tensor{Name: name, DType: Bytes, Shape: []int{len(data)}, Raw: data})
}

// Tensor returns the tensor called name, or nil.
func (c *Checkpoint) Tensor(name string) *Tensor {
	for i := range c.Tensors {
		if c.Tensors[i].Name == name {
			return &c.Tensors[i]
		}
	}
	return nil
}

func (c *Checkpoint) get(name string, d DType) (*Tensor, error) {
	t := c.Tensor(name)
	if t == nil {
		return nil, fmt.Errorf("ckpt: no tensor %q", name)
	}
	if t.DType != d {
		return nil, fmt.Errorf("ckpt: tensor %q is %s, not %s", name, t.DType, d)
	}
	return t, nil
}

// Float32 returns the data and shape of the float32 tensor called name.
func (c *Checkpoint) Float32(name string) ([]float32, []int, error) {
	t, err := c.get(name, Float32)
	if err != nil {
		return nil, nil, err
	}
	return t.F32, t.Shape, nil
}

// Int64 returns the data and shape of the int64 tensor called name.
func (c *Checkpoint) Int64(name string) ([]int64, []int, error) {
	t, err := c.get(name, Int64)
	if err != nil {
		return nil, nil, err
	}
	return t.I64, t.Shape, nil
}

// Bytes returns the byte string called name.
func (c *Checkpoint) Bytes(name string) ([]byte, error) {
	t, err := c.get(name, Bytes)
	if err != nil {
		return nil, err
	}
	return t.Raw, nil
}

// validate checks what Encode relies on and returns the encoded size.
func (c *Checkpoint) validate() (int64, error) {
	if !utf8.ValidString(c.Arch) {
		return 0, errors.New("ckpt: architecture name is not UTF-8")
	}
	if len(c.Config) > 0 && !json.Valid(c.Config) {
		return 0, errors.New("ckpt: config is not valid JSON")
	}
	if len(c.Meta) > 0 && !json.Valid(c.Meta) {
		return 0, errors.New("ckpt: metadata is not valid JSON")
	}
	size := int64(preludeLen) + 4 + int64(len(c.Arch)) + 4 + int64(len(c.Config)) + 4 + int64(len(c.Meta)) + 4
	for _, s := range []int{len(c.Arch), len(c.Config), len(c.Meta), len(c.Tensors)} {
		if uint64(s) > math.MaxUint32 {
			return 0, errors.New("ckpt: a header field is longer than 4 GiB")
		}
	}
	seen := make(map[string]bool, len(c.Tensors))
	for i := range c.Tensors {
		t := &c.Tensors[i]
		if seen[t.Name] {
			return 0, fmt.Errorf("ckpt: tensor name %q appears twice", t.Name)
		}
		seen[t.Name] = true
		if !utf8.ValidString(t.Name) || uint64(len(t.Name)) > math.MaxUint32 {
			return 0, fmt.Errorf("ckpt: tensor name %q is not UTF-8 or too long", t.Name)
		}
		if t.DType.size() == 0 {
			return 0, fmt.Errorf("ckpt: tensor %q has unknown dtype %d", t.Name, t.DType)
		}
		if len(t.Shape) > maxDims {
			return 0, fmt.Errorf("ckpt: tensor %q has %d dimensions (at most %d)", t.Name, len(t.Shape), maxDims)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return 0, fmt.Errorf("ckpt: tensor %q has negative dimension in shape %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != t.Len() {
			return 0, fmt.Errorf("ckpt: tensor %q has shape %v but %d values", t.Name, t.Shape, t.Len())
		}
		size += 4 + int64(len(t.Name)) + 1 + 1 + 8*int64(len(t.Shape)) + int64(n)*int64(t.DType.size())
	}
	return size + 4, nil
}

// Encode writes c to w in the current format version.
func Encode(w io.Writer, c *Checkpoint) error {
	size, err := c.validate()
	if err != nil {
		return err
	}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
	var scratch [8]byte
	u32 := func(v uint32) {
		binary.LittleEndian.PutUint32(scratch[:4], v)
		bw.Write(scratch[:4])
	}
	u64 := func(v uint64) {
		binary.LittleEndian.PutUint64(scratch[:], v)
		bw.Write(scratch[:])
	}
	str := func(s []byte) {
		u32(uint32(len(s)))
		bw.Write(s)
	}
	bw.WriteString(magic)
	u32(Version)
	u64(uint64(size))
	str([]byte(c.Arch))
	str(c.Config)
	str(c.Meta)
	u32(uint32(len(c.Tensors)))
	chunk := make([]byte, 1<<15)
	for i := range c.Tensors {
		t := &c.Tensors[i]
		str([]byte(t.Name))
		bw.WriteByte(byte(t.DType))
		bw.WriteByte(byte(len(t.Shape)))
		for _, d := range t.Shape {
			u64(uint64(d))
		}
		switch t.DType {
		case Float32:
			for x := t.F32; len(x) > 0; {
				k := min(len(x), len(chunk)/4)
				for j, v := range x[:k] {
					binary.LittleEndian.PutUint32(chunk[4*j:], math.Float32bits(v))
				}
				bw.Write(chunk[:4*k])
				x = x[k:]
			}
		case Int64:
			for x := t.I64; len(x) > 0; {
				k := min(len(x), len(chunk)/8)
				for j, v := range x[:k] {
					binary.LittleEndian.PutUint64(chunk[8*j:], uint64(v))
				}
				bw.Write(chunk[:8*k])
				x = x[k:]
			}
		case Bytes:
			bw.Write(t.Raw)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ckpt: %w", err)
	}
	// The checksum goes to w alone.
	binary.LittleEndian.PutUint32(scratch[:4], crc.Sum32())
	if _, err := w.Write(scratch[:4]); err != nil {
		return fmt.Errorf("ckpt: %w", err)
	}
	return nil
}

// Decode reads a checkpoint from r. It reads exactly the length that the
// file declares and nothing after it.
func Decode(r io.Reader) (*Checkpoint, error) {
	var pre [preludeLen]byte
	if n, err := io.ReadFull(r, pre[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if n >= len(magic) && string(pre[:len(magic)]) != magic {
				return nil, errors.New("ckpt: not a cdp checkpoint (bad magic)")
			}
			return nil, fmt.Errorf("ckpt: file is truncated (read %d of at least %d bytes)", n, minLen)
		}
		return nil, fmt.Errorf("ckpt: %w", err)
	}
	total, err := checkPrelude(pre[:])
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(int(min(total, 1<<20)))
	buf.Write(pre[:])
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(total-preludeLen))); err != nil {
		return nil, fmt.Errorf("ckpt: %w", err)
	}
	if uint64(buf.Len()) < total {
		return nil, fmt.Errorf("ckpt: file is truncated (read %d of %d bytes)", buf.Len(), total)
	}
	return parse(buf.Bytes())
}

// DecodeAt reads a checkpoint from the first size bytes of r, which must
// hold exactly one checkpoint.
func DecodeAt(r io.ReaderAt, size int64) (*Checkpoint, error) {
	if size < 0 {
		return nil, fmt.Errorf("ckpt: negative size %d", size)
	}
	var pre [preludeLen]byte
	n, err := r.ReadAt(pre[:min(size, preludeLen)], 0)
	if int64(n) < min(size, preludeLen) {
		return nil, fmt.Errorf("ckpt: %w", err)
	}
	if size < preludeLen {
		if size >= int64(len(magic)) && string(pre[:len(magic)]) != magic {
			return nil, errors.New("ckpt: not a cdp checkpoint (bad magic)")
		}
		return nil, fmt.Errorf("ckpt: file is truncated (read %d of at least %d bytes)", size, minLen)
	}
	total, err := checkPrelude(pre[:])
	if err != nil {
		return nil, err
	}
	if uint64(size) < total {
		return nil, fmt.Errorf("ckpt: file is truncated (read %d of %d bytes)", size, total)
	}
	if uint64(size) > total {
		return nil, fmt.Errorf("ckpt: %d unexpected bytes after the end of the checkpoint (%d bytes)", uint64(size)-total, total)
	}
	buf := make([]byte, total)
	if m, err := r.ReadAt(buf, 0); m < len(buf) {
		return nil, fmt.Errorf("ckpt: file is truncated (read %d of %d bytes): %w", m, total, err)
	}
	return parse(buf)
}

// checkPrelude checks magic and version and returns the declared length.
func checkPrelude(pre []byte) (uint64, error) {
	if string(pre[:len(magic)]) != magic {
		return 0, errors.New("ckpt: not a cdp checkpoint (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != Version {
		return 0, fmt.Errorf("ckpt: version %d not supported (this build reads %d)", v, Version)
	}
	total := binary.LittleEndian.Uint64(pre[12:])
	if total < minLen || total > math.MaxInt64/2 {
		return 0, fmt.Errorf("ckpt: corrupt header (declared length %d)", total)
	}
	return total, nil
}

// parser walks a checked buffer; every read is bounded by what remains.
type parser struct {
	b   []byte
	off int
	err error
}

func (p *parser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("ckpt: corrupt file at byte %d: "+format, append([]any{p.off}, args...)...)
	}
}

func (p *parser) take(n uint64, what string) []byte {
	if p.err != nil {
		return nil
	}
	if n > uint64(len(p.b)-p.off) {
		p.fail("%s needs %d bytes, %d remain", what, n, len(p.b)-p.off)
		return nil
	}
	s := p.b[p.off : p.off+int(n)]
	p.off += int(n)
	return s
}

func (p *parser) u8(what string) uint8 {
	if s := p.take(1, what); s != nil {
		return s[0]
	}
	return 0
}

func (p *parser) u32(what string) uint32 {
	if s := p.take(4, what); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (p *parser) u64(what string) uint64 {
	if s := p.take(8, what); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (p *parser) str(what string) []byte {
	n := p.u32(what + " length")
	return p.take(uint64(n), what)
}

// parse checks the checksum of a whole file and decodes its body.
func parse(b []byte) (*Checkpoint, error) {
	body := b[:len(b)-4]
	stored := binary.LittleEndian.Uint32(b[len(b)-4:])
	if got := crc32.Checksum(body, castagnoli); got != stored {
		return nil, fmt.Errorf("ckpt: checksum mismatch (stored %08x, computed %08x)", stored, got)
	}
	p := &parser{b: body, off: preludeLen}
	c := &Checkpoint{}
	arch := p.str("architecture")
	config := p.str("config")
	meta := p.str("metadata")
	count := p.u32("tensor count")
	if p.err != nil {
		return nil, p.err
	}
	c.Arch = string(arch)
	if !utf8.Valid(arch) {
		return nil, errors.New("ckpt: corrupt file: architecture name is not UTF-8")
	}
	if len(config) > 0 {
		if !json.Valid(config) {
			return nil, errors.New("ckpt: corrupt file: config is not valid JSON")
		}
		c.Config = bytes.Clone(config)
	}
	if len(meta) > 0 {
		if !json.Valid(meta) {
			return nil, errors.New("ckpt: corrupt file: metadata is not valid JSON")
		}
		c.Meta = bytes.Clone(meta)
	}
	// Each tensor takes at least 6 bytes; bound the slice by what remains.
	c.Tensors = make([]Tensor, 0, min(uint64(count), uint64(len(body)-p.off)/6))
	seen := make(map[string]bool)
	for range count {
		name := string(p.str("tensor name"))
		dt := DType(p.u8("dtype"))
		ndim := int(p.u8("rank"))
		if p.err != nil {
			return nil, p.err
		}
		if !utf8.ValidString(name) {
			p.fail("tensor name %q is not UTF-8", name)
			return nil, p.err
		}
		if seen[name] {
			p.fail("tensor name %q appears twice", name)
			return nil, p.err
		}
		seen[name] = true
		if dt.size() == 0 {
			p.fail("tensor %q has unknown dtype %d", name, uint8(dt))
			return nil, p.err
		}
		if ndim > maxDims {
			p.fail("tensor %q has %d dimensions (at most %d)", name, ndim, maxDims)
			return nil, p.err
		}
		// The element count may not exceed the bytes that remain.
		limit := uint64(len(body) - p.off)
		shape := make([]int, ndim)
		n := uint64(1)
		for i := range shape {
			d := p.u64("dimension")
			if p.err != nil {
				return nil, p.err
			}
			if d > limit || (d != 0 && n > limit/d) {
				p.fail("tensor %q declares dimension %d, more than the %d bytes that remain", name, d, limit)
				return nil, p.err
			}
			n *= d
			shape[i] = int(d)
		}
		raw := p.take(n*uint64(dt.size()), fmt.Sprintf("tensor %q data", name))
		if p.err != nil {
			return nil, p.err
		}
		t := Tensor{Name: name, DType: dt, Shape: shape}
		switch dt {
		case Float32:
			t.F32 = make([]float32, n)
			for i := range t.F32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case Int64:
			t.I64 = make([]int64, n)
			for i := range t.I64 {
				t.I64[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		case Bytes:
			t.Raw = bytes.Clone(raw)
			if t.Raw == nil {
				t.Raw = []byte{}
			}
		}
		c.Tensors = append(c.Tensors, t)
	}
	if p.off != len(body) {
		p.fail("%d bytes left after the last tensor", len(body)-p.off)
		return nil, p.err
	}
	return c, nil
}
