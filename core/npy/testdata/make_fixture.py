# Regenerates fixture.npz and fixture_compressed.npz with numpy:
#   cd core/npy/testdata && /usr/bin/python3 make_fixture.py
# The values are simple formulas that npy_test.go checks independently.
import numpy as np

def arrays():
    return dict(
        image=(np.arange(2 * 3 * 4 * 1) % 256).astype(np.uint8).reshape(2, 3, 4, 1),
        label=np.array([7, -1], dtype=np.int64),
        w=(np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3),
        d=np.array([1.5, -2.25, 1e300], dtype=np.float64),
        i=np.array([[-5, 6]], dtype=np.int32),
        b=np.array([True, False, True]),
        s=np.float32(3.0),
    )

np.savez("fixture.npz", **arrays())
np.savez_compressed("fixture_compressed.npz", **arrays())
# version 2.0 header written explicitly
with open("fixture_v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(5, dtype="<i8"), version=(2, 0))
