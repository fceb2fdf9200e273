//! Reverse-mode differentiation of a recogniser's ONNX graph into another ONNX graph, the Rust
//! counterpart of `models/tools/gradgraph.py` for the ops that released recognisers use.
//!
//! ONNX Runtime only runs inference, so the gradient a cloak needs is written out as plain ops:
//! Conv backward is ConvTranspose, activations backward are masks, and so on. The result takes
//! `image` (N×3×112×112 RGB in [0, 1]) and `target` (N×D) and returns `embedding` (N×D), `loss`
//! (N, the cosine of embedding and target) and `grad` (d loss / d image). Samples in a batch are
//! independent, so the gradient of the summed loss is each sample's own.

use std::collections::{HashMap, HashSet};

use super::onnx::{Attribute, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfo, dtype};
use super::wrap::{EMBEDDING, INPUT};

pub const TARGET: &str = "target";

/// Static shapes of the tensors the backward pass needs, as a probe run measured them.
pub type Shapes = HashMap<String, Vec<i64>>;

struct Builder<'a> {
    /// What every name this builder adds starts with: one the model does not use.
    prefix: String,
    consts: &'a HashMap<String, TensorProto>,
    shapes: &'a Shapes,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    count: usize,
}

impl Builder<'_> {
    fn fresh(&mut self, hint: &str) -> String {
        self.count += 1;
        format!("{}/{hint}_{}", self.prefix, self.count)
    }

    fn floats(&mut self, dims: &[i64], values: Vec<f32>, hint: &str) -> String {
        let name = self.fresh(hint);
        self.inits.push(TensorProto::floats(&name, dims, values));
        name
    }

    fn scalar(&mut self, v: f32) -> String {
        self.floats(&[], vec![v], "c")
    }

    fn ints(&mut self, values: &[i64]) -> String {
        let name = self.fresh("axes");
        self.inits.push(TensorProto::ints(
            &name,
            &[values.len() as i64],
            values.to_vec(),
        ));
        name
    }

    fn node(&mut self, op: &str, inputs: &[&str], hint: &str, attrs: Vec<Attribute>) -> String {
        let out = self.fresh(hint);
        self.nodes.push(NodeProto::new(op, inputs, &[&out], attrs));
        out
    }

    fn is_const(&self, name: &str) -> bool {
        self.consts.contains_key(name)
    }

    fn konst(&self, name: &str, what: &str) -> Result<&TensorProto, String> {
        self.consts
            .get(name)
            .ok_or_else(|| format!("{what} `{name}` is computed, not a constant"))
    }

    fn shape(&self, name: &str) -> Result<&[i64], String> {
        self.shapes
            .get(name)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("no shape measured for `{name}`"))
    }

    fn mask_of(&mut self, bools: String) -> String {
        self.node(
            "Cast",
            &[&bools],
            "mask",
            vec![Attribute::int("to", i64::from(dtype::FLOAT))],
        )
    }
}

/// The gradient graph of `model`, whose one input is `image` and one output `embedding` (N×D),
/// as [`super::wrap::wrap`] leaves it.
pub fn gradient_model(model: &ModelProto, shapes: &Shapes) -> Result<ModelProto, String> {
    let g = model.graph.as_ref().ok_or("the model has no graph")?;
    let mut consts: HashMap<String, TensorProto> = g
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t.clone()))
        .collect();
    for n in g.node.iter().filter(|n| n.op_type == "Constant") {
        if let Some(t) = n.attr("value").and_then(|a| a.t.clone()) {
            consts.insert(n.output[0].clone(), t);
        }
    }
    let dim = *shapes
        .get(EMBEDDING)
        .and_then(|s| s.get(1))
        .ok_or("the embedding's size was not measured")?;
    let mut b = Builder {
        prefix: super::wrap::free_prefix(g, "grad"),
        consts: &consts,
        shapes,
        nodes: Vec::new(),
        inits: Vec::new(),
        count: 0,
    };

    // Which tensors depend on the input, so the backward pass skips constant branches.
    let mut live: HashSet<&str> = HashSet::from([INPUT]);
    for n in &g.node {
        if n.input.iter().any(|i| live.contains(i.as_str())) {
            live.extend(n.output.iter().map(String::as_str));
        }
    }
    let mut grads: HashMap<String, Vec<String>> = HashMap::new();
    let add_grad = |grads: &mut HashMap<String, Vec<String>>, name: &str, value: String| {
        if live.contains(name) {
            grads.entry(name.to_string()).or_default().push(value);
        }
    };

    // Seed: d cos(e, t) / d e = t / (|e||t|) − cos · e / |e|²
    let one = b.ints(&[1]);
    let sum = |b: &mut Builder, x: &str, y: &str, hint: &str| {
        let p = b.node("Mul", &[x, y], hint, vec![]);
        b.node(
            "ReduceSum",
            &[&p, &one],
            hint,
            vec![Attribute::int("keepdims", 1)],
        )
    };
    let ee = sum(&mut b, EMBEDDING, EMBEDDING, "ee");
    let tt = sum(&mut b, TARGET, TARGET, "tt");
    let et = sum(&mut b, EMBEDDING, TARGET, "et");
    let tiny = b.scalar(1e-12);
    let ee_safe = b.node("Max", &[&ee, &tiny], "ee_safe", vec![]);
    let tt_safe = b.node("Max", &[&tt, &tiny], "tt_safe", vec![]);
    let ne = b.node("Sqrt", &[&ee_safe], "ne", vec![]);
    let nt = b.node("Sqrt", &[&tt_safe], "nt", vec![]);
    let nent = b.node("Mul", &[&ne, &nt], "nent", vec![]);
    let cos = b.node("Div", &[&et, &nent], "cos", vec![]);
    let flat = b.ints(&[-1]);
    let mut loss = NodeProto::new("Reshape", &[&cos, &flat], &["loss"], vec![]);
    loss.name = b.fresh("loss");
    b.nodes.push(loss);
    let term1 = b.node("Div", &[TARGET, &nent], "t_over", vec![]);
    let ne2 = b.node("Mul", &[&ne, &ne], "ne2", vec![]);
    let cos_over = b.node("Div", &[&cos, &ne2], "cos_over", vec![]);
    let term2 = b.node("Mul", &[&cos_over, EMBEDDING], "e_term", vec![]);
    let seed = b.node("Sub", &[&term1, &term2], "seed", vec![]);
    add_grad(&mut grads, EMBEDDING, seed);

    for n in g.node.iter().rev() {
        if !n.output.iter().any(|o| grads.contains_key(o)) {
            continue;
        }
        if n.output.len() != 1 && n.op_type != "MaxPool" {
            return Err(format!("{} with several outputs", n.op_type));
        }
        let gs = grads.remove(&n.output[0]).unwrap_or_default();
        let Some(gy) = accumulate(&mut b, gs) else {
            continue;
        };
        for (name, value) in backward(&mut b, n, &gy)? {
            add_grad(&mut grads, &name, value);
        }
    }
    let dx = accumulate(&mut b, grads.remove(INPUT).unwrap_or_default())
        .ok_or("the embedding does not depend on the image")?;
    let mut grad = NodeProto::new("Identity", &[&dx], &["grad"], vec![]);
    grad.name = b.fresh("grad");
    b.nodes.push(grad);

    let mut nodes = g.node.clone();
    nodes.append(&mut b.nodes);
    let mut initializer = g.initializer.clone();
    initializer.append(&mut b.inits);
    let face = [None, Some(3), Some(112), Some(112)];
    let graph = GraphProto {
        node: nodes,
        name: format!("{}_grad", g.name),
        initializer,
        sparse_initializer: Vec::new(),
        input: vec![
            ValueInfo::tensor(INPUT, dtype::FLOAT, &face),
            ValueInfo::tensor(TARGET, dtype::FLOAT, &[None, Some(dim)]),
        ],
        output: vec![
            ValueInfo::tensor(EMBEDDING, dtype::FLOAT, &[None, Some(dim)]),
            ValueInfo::tensor("loss", dtype::FLOAT, &[None]),
            ValueInfo::tensor("grad", dtype::FLOAT, &face),
        ],
        value_info: Vec::new(),
    };
    Ok(ModelProto {
        graph: Some(graph),
        ..model.clone()
    })
}

fn accumulate(b: &mut Builder, gs: Vec<String>) -> Option<String> {
    let mut it = gs.into_iter();
    let first = it.next()?;
    Some(it.fold(first, |acc, other| {
        b.node("Add", &[&acc, &other], "acc", vec![])
    }))
}

/// The gradients `n`'s inputs receive from `gy`, the gradient of its output.
fn backward(b: &mut Builder, n: &NodeProto, gy: &str) -> Result<Vec<(String, String)>, String> {
    let ins: Vec<&str> = n.input.iter().map(String::as_str).collect();
    let out = n.output[0].as_str();
    let one = |name: &str, g: String| Ok(vec![(name.to_string(), g)]);
    match n.op_type.as_str() {
        "Conv" => {
            let (x, w) = (ins[0], ins[1]);
            let kernel = b.konst(w, "Conv weight")?.dims.clone();
            if kernel.len() != 4 {
                return Err("only 2-D convolutions are covered".into());
            }
            if n.attr_ints("dilations")
                .is_some_and(|d| d.iter().any(|&v| v != 1))
            {
                return Err("dilated convolutions are not covered".into());
            }
            if n.attr_str("auto_pad").is_some_and(|p| p != "NOTSET") {
                return Err("Conv with auto_pad is not covered".into());
            }
            let strides = n.attr_ints("strides").unwrap_or(vec![1, 1]);
            let pads = n.attr_ints("pads").unwrap_or(vec![0, 0, 0, 0]);
            let group = n.attr_int("group", 1);
            let (kh, kw) = (kernel[2], kernel[3]);
            let (xs, ys) = (b.shape(x)?.to_vec(), b.shape(out)?.to_vec());
            // ConvTranspose's natural output can fall short of the input by up to stride − 1.
            let op_h = xs[2] - ((ys[2] - 1) * strides[0] - pads[0] - pads[2] + kh);
            let op_w = xs[3] - ((ys[3] - 1) * strides[1] - pads[1] - pads[3] + kw);
            let dx = b.node(
                "ConvTranspose",
                &[gy, w],
                "dconv",
                vec![
                    Attribute::ints("strides", &strides),
                    Attribute::ints("pads", &pads),
                    Attribute::int("group", group),
                    Attribute::ints("kernel_shape", &[kh, kw]),
                    Attribute::ints("output_padding", &[op_h, op_w]),
                ],
            );
            one(x, dx)
        }
        "Relu" => {
            let zero = b.scalar(0.0);
            let pos = b.node("Greater", &[ins[0], &zero], "pos", vec![]);
            let mask = b.mask_of(pos);
            one(ins[0], b.node("Mul", &[gy, &mask], "drelu", vec![]))
        }
        "PRelu" | "LeakyRelu" => {
            let zero = b.scalar(0.0);
            let slope = if n.op_type == "PRelu" {
                ins[1].to_string()
            } else {
                b.scalar(n.attr_float("alpha", 0.01))
            };
            let pos = b.node("Greater", &[ins[0], &zero], "pos", vec![]);
            let neg = b.node("Mul", &[gy, &slope], "gslope", vec![]);
            one(ins[0], b.node("Where", &[&pos, gy, &neg], "dprelu", vec![]))
        }
        "Sigmoid" => {
            let unit = b.scalar(1.0);
            let rest = b.node("Sub", &[&unit, out], "one_minus", vec![]);
            let slope = b.node("Mul", &[out, &rest], "dsig_slope", vec![]);
            one(ins[0], b.node("Mul", &[gy, &slope], "dsigmoid", vec![]))
        }
        "Max" | "Min" => {
            let (mut x, mut c) = (ins[0], ins[1]);
            if b.is_const(x) {
                (x, c) = (c, x);
            }
            if !b.is_const(c) {
                return Err(format!(
                    "{} of two computed tensors is not covered",
                    n.op_type
                ));
            }
            let cmp = if n.op_type == "Max" {
                "Greater"
            } else {
                "Less"
            };
            let sel = b.node(cmp, &[x, c], "sel", vec![]);
            let mask = b.mask_of(sel);
            one(x, b.node("Mul", &[gy, &mask], "dclip", vec![]))
        }
        "Clip" => {
            let mut g = gy.to_string();
            for (k, cmp) in [(1, "Greater"), (2, "Less")] {
                if let Some(bound) = ins.get(k).filter(|s| !s.is_empty()) {
                    let sel = b.node(cmp, &[ins[0], bound], "sel", vec![]);
                    let mask = b.mask_of(sel);
                    g = b.node("Mul", &[&g, &mask], "dclip", vec![]);
                }
            }
            one(ins[0], g)
        }
        "Abs" => {
            let sign = b.node("Sign", &[ins[0]], "sign", vec![]);
            one(ins[0], b.node("Mul", &[gy, &sign], "dabs", vec![]))
        }
        "Identity" => one(ins[0], gy.to_string()),
        "Add" => ins
            .iter()
            .map(|&i| Ok((i.to_string(), unbroadcast(b, gy, i, out)?)))
            .collect(),
        "Sub" => {
            let neg = b.node("Neg", &[gy], "neg", vec![]);
            Ok(vec![
                (ins[0].to_string(), unbroadcast(b, gy, ins[0], out)?),
                (ins[1].to_string(), unbroadcast(b, &neg, ins[1], out)?),
            ])
        }
        "Mul" => {
            let (x, y) = (ins[0], ins[1]);
            let mut v = Vec::new();
            for (t, other) in [(x, y), (y, x)] {
                if !b.is_const(t) {
                    let d = b.node("Mul", &[gy, other], "dmul", vec![]);
                    v.push((t.to_string(), unbroadcast(b, &d, t, out)?));
                }
            }
            Ok(v)
        }
        "Div" => {
            let (x, y) = (ins[0], ins[1]);
            let mut v = Vec::new();
            if !b.is_const(x) {
                let d = b.node("Div", &[gy, y], "ddiv", vec![]);
                v.push((x.to_string(), unbroadcast(b, &d, x, out)?));
            }
            if !b.is_const(y) {
                // d(x/y)/dy = −(x/y)/y
                let q = b.node("Div", &[out, y], "q_over_y", vec![]);
                let dq = b.node("Mul", &[gy, &q], "dq", vec![]);
                let neg = b.node("Neg", &[&dq], "neg", vec![]);
                v.push((y.to_string(), unbroadcast(b, &neg, y, out)?));
            }
            Ok(v)
        }
        "Sqrt" => {
            // d sqrt(x) = dy / (2 sqrt(x)), with the forward pass's own output as sqrt(x).
            let half = b.scalar(0.5);
            let q = b.node("Div", &[gy, out], "dsqrt", vec![]);
            one(ins[0], b.node("Mul", &[&q, &half], "dsqrt_half", vec![]))
        }
        "Concat" => {
            let rank = b.shape(out)?.len() as i64;
            let axis = n.attr_int("axis", 0);
            let axis = if axis < 0 { axis + rank } else { axis };
            let mut start = 0;
            let mut v = Vec::new();
            for &i in &ins {
                let size = b.shape(i)?[axis as usize];
                let (from, to, ax) = (b.ints(&[start]), b.ints(&[start + size]), b.ints(&[axis]));
                v.push((
                    i.to_string(),
                    b.node("Slice", &[gy, &from, &to, &ax], "dconcat", vec![]),
                ));
                start += size;
            }
            Ok(v)
        }
        "MaxPool" => {
            // Each output's gradient goes to the input its window took the maximum from;
            // windows that share a maximum add up, as ScatterElements with "add" does.
            let x = ins[0];
            if n.attr_ints("pads")
                .is_some_and(|p| p.iter().any(|&v| v != 0))
                || n.attr_int("ceil_mode", 0) != 0
                || n.attr_str("auto_pad").is_some_and(|p| p != "NOTSET")
            {
                return Err("MaxPool with padding or ceil_mode is not covered".into());
            }
            let kernel = n
                .attr_ints("kernel_shape")
                .ok_or("MaxPool without a kernel")?;
            let strides = n.attr_ints("strides").unwrap_or(vec![1, 1]);
            let (y2, idx) = (b.fresh("dmaxpool_y"), b.fresh("dmaxpool_idx"));
            b.nodes.push(NodeProto::new(
                "MaxPool",
                &[x],
                &[&y2, &idx],
                vec![
                    Attribute::ints("kernel_shape", &kernel),
                    Attribute::ints("strides", &strides),
                ],
            ));
            let flat = b.ints(&[-1]);
            let one_d = b.ints(&[1]);
            let size = b.node("Size", &[x], "size", vec![]);
            let size = b.node("Reshape", &[&size, &one_d], "size1", vec![]);
            let zeros = b.node(
                "ConstantOfShape",
                &[&size],
                "zeros",
                vec![Attribute::tensor(
                    "value",
                    TensorProto::floats("", &[1], vec![0.0]),
                )],
            );
            let idx_flat = b.node("Reshape", &[&idx, &flat], "idx_flat", vec![]);
            let gy_flat = b.node("Reshape", &[gy, &flat], "gy_flat", vec![]);
            let scattered = b.node(
                "ScatterElements",
                &[&zeros, &idx_flat, &gy_flat],
                "dmaxpool",
                vec![
                    Attribute::int("axis", 0),
                    Attribute::string("reduction", "add"),
                ],
            );
            let shape = b.node("Shape", &[x], "shape", vec![]);
            one(
                x,
                b.node("Reshape", &[&scattered, &shape], "dmaxpool_shaped", vec![]),
            )
        }
        "GlobalAveragePool" | "AveragePool" => {
            let x = ins[0];
            let xs = b.shape(x)?.to_vec();
            if n.op_type == "AveragePool"
                && (n.attr_ints("kernel_shape").as_deref() != Some(&xs[2..])
                    || n.attr_ints("pads")
                        .is_some_and(|p| p.iter().any(|&v| v != 0)))
            {
                return Err("only an AveragePool over the whole map is covered".into());
            }
            let count: i64 = xs[2..].iter().product();
            let k = b.scalar(1.0 / count as f32);
            let scaled = b.node("Mul", &[gy, &k], "davg", vec![]);
            let shape = b.node("Shape", &[x], "shape", vec![]);
            one(
                x,
                b.node("Expand", &[&scaled, &shape], "davg_expand", vec![]),
            )
        }
        "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
            let shape = b.node("Shape", &[ins[0]], "shape", vec![]);
            one(ins[0], b.node("Reshape", &[gy, &shape], "dreshape", vec![]))
        }
        "Transpose" => {
            let rank = b.shape(ins[0])?.len() as i64;
            let perm = n
                .attr_ints("perm")
                .unwrap_or_else(|| (0..rank).rev().collect());
            let mut inv = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inv[p as usize] = i as i64;
            }
            one(
                ins[0],
                b.node(
                    "Transpose",
                    &[gy],
                    "dtranspose",
                    vec![Attribute::ints("perm", &inv)],
                ),
            )
        }
        "MatMul" | "Gemm" => {
            let (x, w) = (ins[0], ins[1]);
            if n.attr_int("transA", 0) != 0 {
                return Err("Gemm with transA is not covered".into());
            }
            let wt = b.konst(w, "the right operand of MatMul/Gemm")?;
            if wt.dims.len() != 2 {
                return Err("only a 2-D constant right operand of MatMul/Gemm is covered".into());
            }
            // dX = dY · W'ᵀ, where W' is W, or Wᵀ under transB (then W'ᵀ is W itself).
            let back = if n.attr_int("transB", 0) != 0 {
                w.to_string()
            } else {
                let (k, m) = (wt.dims[0] as usize, wt.dims[1] as usize);
                let v = wt
                    .to_f32()
                    .ok_or("a MatMul/Gemm weight that is not numeric")?;
                let t: Vec<f32> = (0..m * k).map(|i| v[(i % k) * m + i / k]).collect();
                b.floats(&[m as i64, k as i64], t, "wT")
            };
            let mut dx = b.node("MatMul", &[gy, &back], "dmatmul", vec![]);
            let alpha = n.attr_float("alpha", 1.0);
            if n.op_type == "Gemm" && alpha != 1.0 {
                let a = b.scalar(alpha);
                dx = b.node("Mul", &[&dx, &a], "dgemm_alpha", vec![]);
            }
            one(x, dx)
        }
        "BatchNormalization" => {
            // In inference, y = (x − mean) · scale / √(var + ε) + bias: a per-channel factor.
            if n.attr_int("training_mode", 0) != 0 {
                return Err("BatchNormalization in training mode".into());
            }
            let eps = n.attr_float("epsilon", 1e-5);
            let value = |k: usize, what: &str| -> Result<Vec<f32>, String> {
                b.konst(ins[k], what)?
                    .to_f32()
                    .ok_or_else(|| format!("{what} is not numeric"))
            };
            let (scale, var) = (value(1, "BatchNormalization scale")?, value(4, "variance")?);
            let factor: Vec<f32> = scale
                .iter()
                .zip(&var)
                .map(|(s, v)| s / (v + eps).sqrt())
                .collect();
            let rank = b.shape(ins[0])?.len();
            let mut dims = vec![1i64; rank];
            dims[1] = factor.len() as i64;
            let f = b.floats(&dims, factor, "dbn_factor");
            one(ins[0], b.node("Mul", &[gy, &f], "dbn", vec![]))
        }
        "ReduceMean" => {
            let x = ins[0];
            let xs = b.shape(x)?.to_vec();
            let axes: Vec<i64> = match ins.get(1).filter(|s| !s.is_empty()) {
                Some(a) => b.konst(a, "ReduceMean axes")?.to_i64().unwrap_or_default(),
                None => n.attr_ints("axes").unwrap_or_default(),
            };
            let rank = xs.len() as i64;
            let axes: Vec<i64> = axes
                .iter()
                .map(|&a| if a < 0 { a + rank } else { a })
                .collect();
            let count: i64 = axes.iter().map(|&a| xs[a as usize]).product();
            let gy2 = if n.attr_int("keepdims", 1) != 0 {
                gy.to_string()
            } else {
                let ax = b.ints(&axes);
                b.node("Unsqueeze", &[gy, &ax], "unsq", vec![])
            };
            let k = b.scalar(1.0 / count as f32);
            let scaled = b.node("Mul", &[&gy2, &k], "dmean", vec![]);
            let shape = b.node("Shape", &[x], "shape", vec![]);
            one(x, b.node("Expand", &[&scaled, &shape], "dexpand", vec![]))
        }
        "Resize" => resize(b, n, gy),
        other => Err(format!("no gradient rule for {other} (node `{}`)", n.name)),
    }
}

/// A linear Resize with constant scales (half-pixel coordinates). ×2 upsampling mixes two
/// input pixels per axis with weights ¼ and ¾, so its transpose is a stride-2 depthwise
/// convolution with the kernel [¼ ¾ ¾ ¼] on both axes, the gradient padded by repeating its
/// edge so border pixels, whose taps the forward pass clamps, get their exact share. Any other
/// scale is a matrix on each spatial axis, Y = A_h · X · A_wᵀ, so dX = A_hᵀ · dY · A_w.
fn resize(b: &mut Builder, n: &NodeProto, gy: &str) -> Result<Vec<(String, String)>, String> {
    let x = n.input[0].as_str();
    if n.attr_str("mode").as_deref() != Some("linear") {
        return Err("only a linear Resize is covered".into());
    }
    if n.attr_str("coordinate_transformation_mode")
        .is_some_and(|m| m != "half_pixel")
    {
        return Err("only a half-pixel Resize is covered".into());
    }
    let scales = n
        .input
        .get(2)
        .filter(|s| !s.is_empty())
        .ok_or("a Resize given sizes rather than scales is not covered")?;
    let scales = b
        .konst(scales, "Resize scales")?
        .to_f32()
        .ok_or("Resize scales that are not numbers")?;
    if scales.len() != 4 || scales[0] != 1.0 || scales[1] != 1.0 {
        return Err("only a Resize of the two spatial axes is covered".into());
    }
    let (xs, ys) = (b.shape(x)?.to_vec(), b.shape(&n.output[0])?.to_vec());
    if scales[2] == 2.0 && scales[3] == 2.0 {
        let channels = xs[1];
        let taps = [0.25f32, 0.75, 0.75, 0.25];
        let mut kernel = Vec::with_capacity(channels as usize * 16);
        for _ in 0..channels {
            for a in taps {
                kernel.extend(taps.iter().map(|t| a * t));
            }
        }
        let w = b.floats(&[channels, 1, 4, 4], kernel, "dresize_w");
        let pads = b.ints(&[0, 0, 1, 1, 0, 0, 1, 1]);
        let padded = b.node(
            "Pad",
            &[gy, &pads],
            "dresize_pad",
            vec![Attribute::string("mode", "edge")],
        );
        let dx = b.node(
            "Conv",
            &[&padded, &w],
            "dresize",
            vec![
                Attribute::int("group", channels),
                Attribute::ints("strides", &[2, 2]),
                Attribute::ints("kernel_shape", &[4, 4]),
            ],
        );
        return Ok(vec![(x.to_string(), dx)]);
    }
    let (ih, iw, oh, ow) = (xs[2], xs[3], ys[2], ys[3]);
    let a_h = linear_resize_matrix(ih as usize, oh as usize, scales[2]);
    let a_w = linear_resize_matrix(iw as usize, ow as usize, scales[3]);
    // A_hᵀ: (ih × oh).
    let a_ht: Vec<f32> = (0..(ih * oh) as usize)
        .map(|k| a_h[(k % oh as usize) * ih as usize + k / oh as usize])
        .collect();
    let w = b.floats(&[ow, iw], a_w, "resize_w");
    let ht = b.floats(&[ih, oh], a_ht, "resize_hT");
    let rows = b.node("MatMul", &[gy, &w], "dresize_w", vec![]);
    Ok(vec![(
        x.to_string(),
        b.node("MatMul", &[&ht, &rows], "dresize", vec![]),
    )])
}

/// The (n_out × n_in) matrix, row-major, of ONNX's linear Resize along one axis (half-pixel
/// coordinates, clamped at the edges).
fn linear_resize_matrix(n_in: usize, n_out: usize, scale: f32) -> Vec<f32> {
    let mut m = vec![0.0f32; n_out * n_in];
    for i in 0..n_out {
        let x = ((i as f64 + 0.5) / f64::from(scale) - 0.5).clamp(0.0, (n_in - 1) as f64);
        let x0 = x.floor() as usize;
        let x1 = (x0 + 1).min(n_in - 1);
        let w = (x - x0 as f64) as f32;
        m[i * n_in + x0] += 1.0 - w;
        m[i * n_in + x1] += w;
    }
    m
}

/// The gradient of a broadcast operand: summed over the axes it was stretched along.
fn unbroadcast(b: &mut Builder, grad: &str, operand: &str, output: &str) -> Result<String, String> {
    if b.is_const(operand) {
        return Ok(grad.to_string());
    }
    let (src, dst) = (b.shape(operand)?.to_vec(), b.shape(output)?.to_vec());
    if src == dst {
        return Ok(grad.to_string());
    }
    if src.len() != dst.len() {
        return Err("broadcasting across ranks between computed tensors is not covered".into());
    }
    let axes: Vec<i64> = (0..src.len())
        .filter(|&i| src[i] == 1 && dst[i] != 1)
        .map(|i| i as i64)
        .collect();
    let ax = b.ints(&axes);
    Ok(b.node(
        "ReduceSum",
        &[grad, &ax],
        "dbroadcast",
        vec![Attribute::int("keepdims", 1)],
    ))
}
