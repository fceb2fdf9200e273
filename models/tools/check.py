"""Compare rebuilt model files with the committed ones: byte-equal, or else equal outputs on random input.

Usage: check.py REBUILT_DIR COMMITTED_DIR
"""

import os
import sys

import numpy as np
import onnxruntime as ort


def same_outputs(a, b):
    sa, sb = ort.InferenceSession(a), ort.InferenceSession(b)
    rng = np.random.default_rng(0)
    feeds = {}
    for i in sa.get_inputs():
        shape = [d if isinstance(d, int) else 2 for d in i.shape]
        feeds[i.name] = rng.random(shape, dtype=np.float32)
    return all(np.allclose(x, y, rtol=1e-4, atol=1e-5) for x, y in zip(sa.run(None, feeds), sb.run(None, feeds)))


def main(rebuilt, committed):
    failures = 0
    for f in sorted(os.listdir(rebuilt)):
        if not f.endswith(".onnx"):
            continue
        a, b = os.path.join(rebuilt, f), os.path.join(committed, f)
        if not os.path.exists(b):
            print(f"MISSING  {f} is built but not committed")
            failures += 1
        elif open(a, "rb").read() == open(b, "rb").read():
            print(f"same     {f}")
        elif same_outputs(a, b):
            print(f"outputs  {f} (bytes differ, outputs equal)")
        else:
            print(f"DIFFERS  {f}")
            failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
