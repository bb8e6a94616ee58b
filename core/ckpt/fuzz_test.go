package ckpt

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode and DecodeAt, both as they
// come and "sealed" (declared length and checksum fixed up, so that the
// parser behind the checksum is reached). Neither may panic, both must agree,
// every error must carry the package prefix, and whatever decodes must
// re-encode to the same bytes.
func FuzzDecode(f *testing.F) {
	good := encode(f, sample(f))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:19])
	f.Add(hostile(1 << 40))
	f.Add(hostile(3, 5))
	f.Add(hostile())
	empty, _ := New("", nil)
	f.Add(encode(f, empty))
	f.Add([]byte("CDPCKPT\x00\x01\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, seal(b)} {
			c1, err1 := Decode(bytes.NewReader(in))
			c2, err2 := DecodeAt(bytes.NewReader(in), int64(len(in)))
			for _, err := range []error{err1, err2} {
				if err != nil && !strings.HasPrefix(err.Error(), "ckpt: ") {
					t.Fatalf("error without prefix: %v", err)
				}
			}
			if err2 == nil && err1 != nil {
				t.Fatalf("DecodeAt accepted what Decode refused: %v", err1)
			}
			for _, c := range []*Checkpoint{c1, c2} {
				if c == nil {
					continue
				}
				var buf bytes.Buffer
				if err := Encode(&buf, c); err != nil {
					t.Fatalf("re-encoding a decoded checkpoint: %v", err)
				}
				if !bytes.HasPrefix(in, buf.Bytes()) {
					t.Fatalf("re-encoding differs from the input")
				}
			}
		}
	})
}
