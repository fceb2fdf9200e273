//! A recogniser as released, put onto FaceCloak's shared input: `image`, N×3×112×112 RGB in
//! [0, 1], normalised inside the graph as the recogniser was trained, and one output named
//! `embedding`. Checked before anything is built from it.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::grad::TARGET;
use super::onnx::{
    Attribute, GraphProto, ModelProto, NodeProto, OperatorSetId, TensorProto, ValueInfo, dtype,
};

pub const INPUT: &str = "image";
pub const EMBEDDING: &str = "embedding";

/// The ops a recogniser may use: those the gradient builder differentiates, and those that only
/// compute shapes or constants (never differentiated, since no gradient flows into them).
const DIFFERENTIABLE: &[&str] = &[
    "Conv",
    "BatchNormalization",
    "Relu",
    "PRelu",
    "LeakyRelu",
    "Sigmoid",
    "Max",
    "Min",
    "Clip",
    "Abs",
    "Identity",
    "Dropout",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Sqrt",
    "Concat",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "MatMul",
    "Gemm",
    "ReduceMean",
    "Resize",
];
const SHAPE_ONLY: &[&str] = &["Constant", "Shape", "Gather", "Cast", "Slice", "Size"];

/// The opset the built graphs use: ScatterElements' "add" (a MaxPool's gradient) needs 16.
const MIN_OPSET: i64 = 16;

/// How the recogniser wants its input: `(255·x − mean) / std` per channel, in RGB or BGR order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Convention {
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub bgr: bool,
}

impl Convention {
    /// InsightFace's and most ArcFace exports': RGB, (x − 127.5) / 127.5.
    pub const ARCFACE: Convention = Convention {
        mean: [127.5; 3],
        std: [127.5; 3],
        bgr: false,
    };

    /// `arcface`, or `MEAN/STD` with an optional `,bgr` (`127.5/128`, `0/255,bgr`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("arcface") {
            return Ok(Self::ARCFACE);
        }
        let (body, bgr) = match s.strip_suffix(",bgr") {
            Some(b) => (b, true),
            None => (s.strip_suffix(",rgb").unwrap_or(s), false),
        };
        let bad = || {
            format!(
                "`{s}` is not an input convention (arcface, or MEAN/STD such as 127.5/128, with ,bgr for BGR order)"
            )
        };
        let (m, d) = body.split_once('/').ok_or_else(bad)?;
        let mean: f32 = m.trim().parse().map_err(|_| bad())?;
        let std: f32 = d.trim().parse().map_err(|_| bad())?;
        if !(std.is_finite() && std > 0.0 && mean.is_finite()) {
            return Err(bad());
        }
        Ok(Convention {
            mean: [mean; 3],
            std: [std; 3],
            bgr,
        })
    }

    pub fn describe(&self) -> String {
        let order = if self.bgr { "BGR" } else { "RGB" };
        if self.mean.iter().all(|&m| m == self.mean[0])
            && self.std.iter().all(|&s| s == self.std[0])
        {
            format!("{order}, (x − {}) / {}", self.mean[0], self.std[0])
        } else {
            format!("{order}, (x − {:?}) / {:?}", self.mean, self.std)
        }
    }
}

/// `model` with the normalisation prepended, its input renamed `image` and its output
/// `embedding`, legacy op forms brought up to [`MIN_OPSET`], and Dropout (inference: the identity)
/// made an Identity.
pub fn wrap(mut model: ModelProto, convention: &Convention) -> Result<ModelProto, String> {
    if !model.functions.is_empty() {
        return Err("the model defines functions of its own, which FaceCloak cannot read".into());
    }
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(1, |o| o.version);
    let g = model.graph.as_mut().ok_or("the file holds no graph")?;
    if !g.sparse_initializer.is_empty() {
        return Err("sparse weights are not supported".into());
    }
    if let Some(t) = g.initializer.iter().find(|t| t.data_location != 0) {
        return Err(format!(
            "weight `{}` lives in a separate file (external data); save the model with its weights inside",
            t.name
        ));
    }
    let unknown: BTreeSet<String> = g
        .node
        .iter()
        .filter(|n| {
            !(n.domain.is_empty() || n.domain == "ai.onnx")
                || !(DIFFERENTIABLE.contains(&n.op_type.as_str())
                    || SHAPE_ONLY.contains(&n.op_type.as_str()))
        })
        .map(|n| {
            if n.domain.is_empty() {
                n.op_type.clone()
            } else {
                format!("{}.{}", n.domain, n.op_type)
            }
        })
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "it uses ops FaceCloak cannot differentiate: {}",
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let weights: HashSet<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<&ValueInfo> = g
        .input
        .iter()
        .filter(|i| !weights.contains(i.name.as_str()))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(format!(
            "it takes {} inputs; a recogniser takes one face",
            inputs.len()
        ));
    };
    if input.elem_type() != Some(dtype::FLOAT) {
        return Err("its input is not a float tensor".into());
    }
    let dims = input.dims().unwrap_or_default();
    let fixed_ok = |i: usize, want: i64| dims.get(i).is_none_or(|d| d.is_none_or(|v| v == want));
    if dims.len() != 4 || !fixed_ok(1, 3) || !fixed_ok(2, 112) || !fixed_ok(3, 112) {
        let shown: Vec<String> = dims
            .iter()
            .map(|d| d.map_or("?".into(), |v| v.to_string()))
            .collect();
        return Err(format!(
            "its input is {}, not N×3×112×112 (an aligned 112×112 colour face)",
            shown.join("×")
        ));
    }
    let mut old_input = input.name.clone();
    let [output] = g.output.as_slice() else {
        return Err(format!(
            "it has {} outputs; a recogniser gives one embedding",
            g.output.len()
        ));
    };
    let mut old_output = output.name.clone();
    // The names FaceCloak's graphs use for their own inputs and outputs are taken out of the
    // model's way.
    for reserved in [INPUT, EMBEDDING, TARGET, "loss", "grad"] {
        let renamed = format!("model/{reserved}");
        rename(g, reserved, &renamed);
        for name in [&mut old_input, &mut old_output] {
            if name == reserved {
                *name = renamed.clone();
            }
        }
    }

    // The names added here must not meet the model's own (a graph wrapped before, say).
    let p = free_prefix(g, "normalise");
    let name = |n: &str| format!("{p}/{n}");
    let mut nodes = Vec::with_capacity(g.node.len() + 4);
    let mut inits = Vec::new();
    // image → [BGR] → ·scale + bias → the model's own input.
    let mut x = INPUT.to_string();
    if convention.bgr {
        // A 1×1 convolution that swaps R and B: differentiated like any other Conv.
        let mut w = vec![0.0f32; 9];
        for (o, i) in [(0, 2), (1, 1), (2, 0)] {
            w[o * 3 + i] = 1.0;
        }
        inits.push(TensorProto::floats(&name("bgr"), &[3, 3, 1, 1], w));
        nodes.push(NodeProto::new(
            "Conv",
            &[INPUT, &name("bgr")],
            &[&name("swapped")],
            vec![Attribute::ints("kernel_shape", &[1, 1])],
        ));
        x = name("swapped");
    }
    let scale: Vec<f32> = convention.std.iter().map(|s| 255.0 / s).collect();
    let bias: Vec<f32> = convention
        .mean
        .iter()
        .zip(&convention.std)
        .map(|(m, s)| -m / s)
        .collect();
    inits.push(TensorProto::floats(&name("scale"), &[1, 3, 1, 1], scale));
    inits.push(TensorProto::floats(&name("bias"), &[1, 3, 1, 1], bias));
    nodes.push(NodeProto::new(
        "Mul",
        &[&x, &name("scale")],
        &[&name("scaled")],
        vec![],
    ));
    let mut add = NodeProto::new(
        "Add",
        &[&name("scaled"), &name("bias")],
        &[&old_input],
        vec![],
    );
    add.name = name("out");
    nodes.push(add);
    for mut n in std::mem::take(&mut g.node) {
        if n.op_type == "Dropout" {
            let own = n.name;
            n = NodeProto::new("Identity", &[&n.input[0]], &[&n.output[0]], vec![]);
            n.name = own;
        } else if opset < 13 {
            upgrade(&mut n, &mut inits, &p);
        }
        nodes.push(n);
    }
    let mut out = NodeProto::new("Identity", &[&old_output], &[EMBEDDING], vec![]);
    out.name = name("embedding");
    nodes.push(out);
    g.node = nodes;
    g.initializer.append(&mut inits);
    g.input = vec![ValueInfo::tensor(
        INPUT,
        dtype::FLOAT,
        &[None, Some(3), Some(112), Some(112)],
    )];
    g.output = vec![ValueInfo::untyped_shape(EMBEDDING, dtype::FLOAT)];
    // Shapes are measured by running the graph; stale annotations from the export could only
    // disagree with the new batch dimension.
    g.value_info.clear();
    model.opset_import = vec![OperatorSetId {
        domain: String::new(),
        version: opset.max(MIN_OPSET),
    }];
    model.ir_version = model.ir_version.max(8);
    Ok(model)
}

/// `stem`, or `stem1`, `stem2`, … : the first that no node, tensor or weight of `g` starts with.
pub fn free_prefix(g: &GraphProto, stem: &str) -> String {
    let taken = |p: &str| {
        g.node
            .iter()
            .flat_map(|n| std::iter::once(&n.name).chain(&n.input).chain(&n.output))
            .chain(g.initializer.iter().map(|t| &t.name))
            .any(|n| n.starts_with(p))
    };
    (0..)
        .map(|k| {
            if k == 0 {
                stem.to_string()
            } else {
                format!("{stem}{k}")
            }
        })
        .find(|p| !taken(&format!("{p}/")))
        .expect("some prefix is free")
}

fn rename(g: &mut GraphProto, from: &str, to: &str) {
    let names = g
        .node
        .iter_mut()
        .flat_map(|n| n.input.iter_mut().chain(n.output.iter_mut()))
        .chain(g.initializer.iter_mut().map(|t| &mut t.name));
    for name in names.filter(|n| *n == from) {
        *name = to.to_string();
    }
}

/// Squeeze, Unsqueeze and ReduceSum took their axes as an attribute before opset 13 and as an
/// input since: the attribute becomes a constant input.
fn upgrade(n: &mut NodeProto, inits: &mut Vec<TensorProto>, prefix: &str) {
    if !matches!(n.op_type.as_str(), "Squeeze" | "Unsqueeze" | "ReduceSum") {
        return;
    }
    if let Some(pos) = n.attribute.iter().position(|a| a.name == "axes") {
        let axes = n.attribute.remove(pos).ints;
        let name = format!("{prefix}/{}_axes", n.output[0]);
        inits.push(TensorProto::ints(&name, &[axes.len() as i64], axes));
        n.input.push(name);
    }
}
