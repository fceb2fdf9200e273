"""Reverse-mode differentiation of an ONNX inference graph into another ONNX inference graph.

ONNX Runtime only runs inference, so the gradient a cloak needs is written out ahead of time as plain
ops: Conv backward is ConvTranspose, activations backward are masks, and so on. The resulting graph
takes `image` (N×3×112×112 RGB in [0,1]) and `target` (N×D) and returns `embedding` (N×D),
`loss` (N, cosine similarity of embedding and target) and `grad` (d loss / d image, N×3×112×112).
Samples in a batch are independent, so the gradient of the summed loss is each sample's own.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT = "image"
TARGET = "target"
EMBEDDING = "embedding"


class _Builder:
    def __init__(self, model):
        self.g = model.graph
        self.consts = {i.name: numpy_helper.to_array(i) for i in self.g.initializer}
        for n in self.g.node:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        self.new_nodes = []
        self.new_inits = {}
        self.count = 0
        self.shape = {}  # static NCHW shapes (batch -1) of tensors whose gradient is needed

    def fresh(self, hint):
        self.count += 1
        return f"grad/{hint}_{self.count}"

    def const(self, value, hint="c"):
        name = self.fresh(hint)
        self.new_inits[name] = np.asarray(value)
        return name

    def node(self, op, inputs, hint, **attrs):
        out = self.fresh(hint)
        self.new_nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _infer_shapes(model, input_shape):
    """Static shapes of every tensor, using ONNX shape inference with the batch fixed to 1."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    dims = m.graph.input[0].type.tensor_type.shape.dim
    for d, v in zip(dims, [1, *input_shape[1:]]):
        d.Clear()
        d.dim_value = v
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    shapes = {}
    for vi in [*m.graph.value_info, *m.graph.input, *m.graph.output]:
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    return shapes


def add_gradient(model, input_shape):
    """Return a new model computing embedding, cosine loss and its gradient w.r.t. the input.

    `model` must have one input (the normalised image, already named INPUT) and one output (the
    embedding)."""
    b = _Builder(model)
    g = model.graph
    x_name = g.input[0].name
    e_name = g.output[0].name
    shapes = _infer_shapes(model, input_shape)

    # Which tensors depend on the input, so the backward pass skips constant branches.
    live = {x_name}
    for n in g.node:
        if any(i in live for i in n.input):
            live.update(n.output)

    grads = {}

    def add_grad(name, value):
        if name in live:
            grads.setdefault(name, []).append(value)

    # Seed: d cos(e, t) / d e = t / (|e||t|) - cos * e / |e|^2
    ee = b.node("ReduceSum", [b.node("Mul", [e_name, e_name], "ee"), b.const(np.array([1], np.int64))],
                "ee_sum", keepdims=1)
    tt = b.node("ReduceSum", [b.node("Mul", [TARGET, TARGET], "tt"), b.const(np.array([1], np.int64))],
                "tt_sum", keepdims=1)
    et = b.node("ReduceSum", [b.node("Mul", [e_name, TARGET], "et"), b.const(np.array([1], np.int64))],
                "et_sum", keepdims=1)
    ne = b.node("Sqrt", [b.node("Max", [ee, b.const(np.float32(1e-12))], "ee_safe")], "ne")
    nt = b.node("Sqrt", [b.node("Max", [tt, b.const(np.float32(1e-12))], "tt_safe")], "nt")
    nent = b.node("Mul", [ne, nt], "nent")
    cos = b.node("Div", [et, nent], "cos")
    b.new_nodes.append(helper.make_node("Reshape", [cos, b.const(np.array([-1], np.int64))], ["loss"],
                                        name="loss"))
    term1 = b.node("Div", [TARGET, nent], "t_over")
    term2 = b.node("Mul", [b.node("Div", [cos, b.node("Mul", [ne, ne], "ne2")], "cos_over"), e_name], "e_term")
    add_grad(e_name, b.node("Sub", [term1, term2], "seed"))

    for n in reversed(list(g.node)):
        outs = [o for o in n.output if o in grads]
        if not outs:
            continue
        assert len(n.output) == 1, f"{n.op_type} with several outputs"
        gs = grads.pop(n.output[0])
        gy = gs[0]
        for other in gs[1:]:
            gy = b.node("Add", [gy, other], "acc")
        _backward(b, n, gy, shapes, add_grad)

    dx = grads.pop(x_name)
    total = dx[0]
    for other in dx[1:]:
        total = b.node("Add", [total, other], "acc")
    b.new_nodes.append(helper.make_node("Identity", [total], ["grad"], name="grad"))

    nodes = list(g.node) + b.new_nodes
    inits = list(g.initializer) + [numpy_helper.from_array(v, k) for k, v in b.new_inits.items()]
    emb_dim = shapes[e_name][1]
    inputs = [
        helper.make_tensor_value_info(x_name, TensorProto.FLOAT, ["N", *input_shape[1:]]),
        helper.make_tensor_value_info(TARGET, TensorProto.FLOAT, ["N", emb_dim]),
    ]
    # Any other input of the model (none in the shipped ones) is passed through unchanged.
    inputs += [i for i in g.input[1:]]
    outputs = [
        helper.make_tensor_value_info(e_name, TensorProto.FLOAT, ["N", emb_dim]),
        helper.make_tensor_value_info("loss", TensorProto.FLOAT, ["N"]),
        helper.make_tensor_value_info("grad", TensorProto.FLOAT, ["N", *input_shape[1:]]),
    ]
    graph = helper.make_graph(nodes, g.name + "_grad", inputs, outputs, inits)
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out


def _backward(b, n, gy, shapes, add_grad):
    op = n.op_type
    a = _attrs(n)
    ins = list(n.input)
    if op == "Conv":
        x, w = ins[0], ins[1]
        wv = b.consts[w]
        strides = a.get("strides", [1, 1])
        pads = a.get("pads", [0, 0, 0, 0])
        group = a.get("group", 1)
        assert a.get("dilations", [1, 1]) == [1, 1]
        assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
        kh, kw = wv.shape[2:]
        ih, iw = shapes[x][2:]
        oh, ow = shapes[n.output[0]][2:]
        # ConvTranspose's natural output size can fall short of the input by up to stride-1 pixels.
        op_h = ih - ((oh - 1) * strides[0] - pads[0] - pads[2] + kh)
        op_w = iw - ((ow - 1) * strides[1] - pads[1] - pads[3] + kw)
        dx = b.node("ConvTranspose", [gy, w], "dconv", strides=strides, pads=pads, group=group,
                    kernel_shape=[kh, kw], output_padding=[op_h, op_w])
        add_grad(x, dx)
    elif op == "Relu":
        mask = b.node("Cast", [b.node("Greater", [ins[0], b.const(np.float32(0))], "pos")], "posf",
                      to=TensorProto.FLOAT)
        add_grad(ins[0], b.node("Mul", [gy, mask], "drelu"))
    elif op == "PRelu":
        x, slope = ins
        pos = b.node("Greater", [x, b.const(np.float32(0))], "pos")
        add_grad(x, b.node("Where", [pos, gy, b.node("Mul", [gy, slope], "gslope")], "dprelu"))
    elif op in ("Max", "Min"):
        x, c = ins
        if x in b.consts:
            x, c = c, x
        assert c in b.consts, f"{op} of two live tensors is not supported"
        cmp = "Greater" if op == "Max" else "Less"
        mask = b.node("Cast", [b.node(cmp, [x, c], "sel")], "self", to=TensorProto.FLOAT)
        add_grad(x, b.node("Mul", [gy, mask], "dclip"))
    elif op == "Abs":
        add_grad(ins[0], b.node("Mul", [gy, b.node("Sign", [ins[0]], "sign")], "dabs"))
    elif op == "Identity":
        add_grad(ins[0], gy)
    elif op == "Add":
        for i in ins:
            add_grad(i, _unbroadcast(b, gy, i, n.output[0], shapes))
    elif op == "Sub":
        add_grad(ins[0], _unbroadcast(b, gy, ins[0], n.output[0], shapes))
        add_grad(ins[1], _unbroadcast(b, b.node("Neg", [gy], "neg"), ins[1], n.output[0], shapes))
    elif op == "Mul":
        x, y = ins
        if x in b.consts or y in b.consts:
            t, c = (y, x) if x in b.consts else (x, y)
            add_grad(t, _unbroadcast(b, b.node("Mul", [gy, c], "dmul"), t, n.output[0], shapes))
        else:
            add_grad(x, _unbroadcast(b, b.node("Mul", [gy, y], "dmul"), x, n.output[0], shapes))
            add_grad(y, _unbroadcast(b, b.node("Mul", [gy, x], "dmul"), y, n.output[0], shapes))
    elif op == "Div":
        x, y = ins
        assert x not in b.consts, "Div of a constant by a live tensor is not supported"
        add_grad(x, _unbroadcast(b, b.node("Div", [gy, y], "ddiv"), x, n.output[0], shapes))
        if y not in b.consts:
            # d(x/y)/dy = -(x/y)/y
            q = b.node("Div", [n.output[0], y], "q_over_y")
            add_grad(y, _unbroadcast(b, b.node("Neg", [b.node("Mul", [gy, q], "dq")], "neg"), y, n.output[0],
                                     shapes))
    elif op == "Sqrt":
        # d sqrt(x) = dy / (2 sqrt(x)), with the forward pass's own output as sqrt(x).
        half = b.node("Div", [gy, n.output[0]], "dsqrt")
        add_grad(ins[0], b.node("Mul", [half, b.const(np.float32(0.5))], "dsqrt_half"))
    elif op == "Concat":
        axis = a["axis"]
        assert axis == 1, "only channel concatenation"
        start = 0
        for i in ins:
            c = shapes[i][1]
            add_grad(i, b.node("Slice", [gy, b.const(np.array([start], np.int64)),
                                         b.const(np.array([start + c], np.int64)),
                                         b.const(np.array([1], np.int64))], "dconcat"))
            start += c
    elif op == "MaxPool":
        # Each output's gradient goes to the input its window took the maximum from; windows
        # that overlap and share a maximum add up, as ScatterElements with reduction "add" does.
        x = ins[0]
        assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET") and not any(a.get("pads", [0]))
        assert a.get("dilations", [1, 1]) == [1, 1] and not a.get("ceil_mode", 0)
        y2, idx = b.fresh("dmaxpool_y"), b.fresh("dmaxpool_idx")
        b.new_nodes.append(helper.make_node("MaxPool", [x], [y2, idx], name=y2, kernel_shape=a["kernel_shape"],
                                            strides=a.get("strides", [1, 1])))
        flat = b.const(np.array([-1], np.int64))
        size = b.node("Reshape", [b.node("Size", [x], "size"), b.const(np.array([1], np.int64))], "size1")
        zeros = b.node("ConstantOfShape", [size], "zeros", value=numpy_helper.from_array(np.zeros(1, np.float32)))
        scattered = b.node("ScatterElements", [zeros, b.node("Reshape", [idx, flat], "idx_flat"),
                                               b.node("Reshape", [gy, flat], "gy_flat")], "dmaxpool", axis=0,
                           reduction="add")
        add_grad(x, b.node("Reshape", [scattered, b.node("Shape", [x], "shape")], "dmaxpool_shaped"))
    elif op == "AveragePool":
        # Only the pool that covers the whole map (FaceNet's last): every input gets 1/k² of it.
        x = ins[0]
        k = a["kernel_shape"]
        assert list(shapes[x][2:]) == list(k) and not any(a.get("pads", [0])), "only a global AveragePool"
        scaled = b.node("Mul", [gy, b.const(np.float32(1.0 / (k[0] * k[1])))], "davg")
        add_grad(x, b.node("Expand", [scaled, b.node("Shape", [x], "shape")], "davg_expand"))
    elif op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
        add_grad(ins[0], b.node("Reshape", [gy, b.node("Shape", [ins[0]], "shape")], "dreshape"))
    elif op == "Transpose":
        perm = list(a["perm"])
        inv = [perm.index(i) for i in range(len(perm))]
        add_grad(ins[0], b.node("Transpose", [gy], "dtranspose", perm=inv))
    elif op == "MatMul":
        x, w = ins
        assert w in b.consts, "MatMul backward needs a constant right operand"
        wt = b.const(np.ascontiguousarray(b.consts[w].T), "wT")
        add_grad(x, b.node("MatMul", [gy, wt], "dmatmul"))
    elif op == "ReduceMean":
        x = ins[0]
        axes = [int(v) for v in b.consts[ins[1]]] if len(ins) > 1 else list(a["axes"])
        count = int(np.prod([shapes[x][i] for i in axes]))
        gy2 = gy if a.get("keepdims", 1) else b.node("Unsqueeze", [gy, b.const(np.array(axes, np.int64))], "unsq")
        scaled = b.node("Mul", [gy2, b.const(np.float32(1.0 / count))], "dmean")
        add_grad(x, b.node("Expand", [scaled, b.node("Shape", [x], "shape")], "dexpand"))
    elif op == "Resize" and [float(v) for v in b.consts[ins[2]]] != [1.0, 1.0, 2.0, 2.0]:
        # Any other linear resize (FaceNet's 112 → 160) is a matrix on each spatial axis,
        # Y = A_h · X · A_wᵀ, so its transpose is dX = A_hᵀ · dY · A_w.
        x = ins[0]
        assert a.get("mode") in (b"linear", "linear"), "only linear Resize"
        assert a.get("coordinate_transformation_mode", b"half_pixel") in (b"half_pixel", "half_pixel")
        scales = b.consts[ins[2]].astype(np.float32)
        assert list(scales[:2]) == [1.0, 1.0]
        (ih, iw), (oh, ow) = shapes[x][2:], shapes[n.output[0]][2:]
        a_h, a_w = _linear_resize_matrix(ih, oh, scales[2]), _linear_resize_matrix(iw, ow, scales[3])
        rows = b.node("MatMul", [gy, b.const(a_w, "resize_w")], "dresize_w")
        add_grad(x, b.node("MatMul", [b.const(np.ascontiguousarray(a_h.T), "resize_hT"), rows], "dresize"))
    elif op == "Resize":
        # Bilinear ×2 upsampling (half_pixel): each output pixel mixes two input pixels per axis
        # with weights ¼ and ¾, so its transpose is a stride-2 depthwise convolution with the
        # kernel [¼ ¾ ¾ ¼] on both axes. Padding the gradient by repeating its edge gives the
        # border pixels, whose taps the forward pass clamps, their exact share.
        x = ins[0]
        assert a.get("mode") in (b"linear", "linear"), "only linear Resize"
        assert a.get("coordinate_transformation_mode", b"half_pixel") in (b"half_pixel", "half_pixel")
        assert len(ins) == 3 and ins[2] in b.consts, "Resize backward needs constant scales"
        assert [float(v) for v in b.consts[ins[2]]] == [1.0, 1.0, 2.0, 2.0], "only ×2 spatial Resize"
        channels = shapes[x][1]
        taps = np.array([0.25, 0.75, 0.75, 0.25], np.float32)
        kernel = np.tile(np.outer(taps, taps)[None, None], (channels, 1, 1, 1)).astype(np.float32)
        padded = b.node("Pad", [gy, b.const(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))], "dresize_pad",
                        mode="edge")
        add_grad(x, b.node("Conv", [padded, b.const(kernel, "dresize_w")], "dresize", group=channels,
                           strides=[2, 2], kernel_shape=[4, 4]))
    else:
        raise ValueError(f"no backward rule for {op} ({n.name})")


def _unbroadcast(b, grad, operand, output, shapes):
    """The gradient of a broadcast operand: summed over the axes it was stretched along."""
    if operand in b.consts or operand not in shapes or output not in shapes:
        return grad
    src, dst = shapes[operand], shapes[output]
    if list(src) == list(dst):
        return grad
    assert len(src) == len(dst), "broadcasting across ranks is not supported"
    axes = [i for i, (s, d) in enumerate(zip(src, dst)) if s == 1 and d != 1]
    return b.node("ReduceSum", [grad, b.const(np.array(axes, np.int64))], "dbroadcast", keepdims=1)


def _linear_resize_matrix(n_in, n_out, scale):
    """The (n_out × n_in) matrix of ONNX's linear Resize along one axis (half_pixel, clamped)."""
    m = np.zeros((n_out, n_in), np.float32)
    for i in range(n_out):
        x = (i + 0.5) / np.float32(scale) - 0.5
        x = min(max(x, 0.0), n_in - 1)
        x0 = int(np.floor(x))
        x1 = min(x0 + 1, n_in - 1)
        w = x - x0
        m[i, x0] += 1 - w
        m[i, x1] += w
    return m


def with_input_normalisation(model, scale, bias, input_shape):
    """Prefix the model with x * scale + bias, renaming its input to INPUT and its output to EMBEDDING,
    with a free batch dim."""
    g = model.graph
    old = g.input[0].name
    scaled = "normalise/scaled"
    pre = [
        helper.make_node("Mul", [INPUT, "normalise/scale"], [scaled], name=scaled),
        helper.make_node("Add", [scaled, "normalise/bias"], [old], name="normalise/out"),
    ]
    inits = [numpy_helper.from_array(np.float32(scale), "normalise/scale"),
             numpy_helper.from_array(np.float32(bias), "normalise/bias")]
    # Every recogniser names its output `embedding`, whatever its source called it.
    post = [helper.make_node("Identity", [g.output[0].name], [EMBEDDING], name=EMBEDDING)]
    nodes = pre + list(g.node) + post
    graph = helper.make_graph(
        nodes, g.name, [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", *input_shape[1:]])],
        [helper.make_tensor_value_info(EMBEDDING, TensorProto.FLOAT,
                                       ["N", g.output[0].type.tensor_type.shape.dim[1].dim_value])],
        inits + list(g.initializer))
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out
