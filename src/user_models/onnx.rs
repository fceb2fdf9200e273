//! The part of ONNX's protobuf schema (onnx.proto, proto2) a recogniser's graph needs: enough to
//! read a model as released, add nodes to it and write it back. Fields FaceCloak does not know
//! (doc strings, metadata, training info) are dropped on the way, which changes no computation;
//! a model that needs what is dropped (external data, functions, sub-graphs) is refused before
//! anything is built from it.

use prost::Message;

#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetId>,
    #[prost(string, tag = "2")]
    pub producer_name: String,
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Model-local functions: present only to be refused (their nodes would call them).
    #[prost(bytes = "vec", repeated, tag = "25")]
    pub functions: Vec<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetId {
    #[prost(string, tag = "1")]
    pub domain: String,
    #[prost(int64, tag = "2")]
    pub version: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// Sparse initializers: present only to be refused.
    #[prost(bytes = "vec", repeated, tag = "15")]
    pub sparse_initializer: Vec<Vec<u8>>,
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfo>,
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfo>,
    #[prost(message, repeated, tag = "13")]
    pub value_info: Vec<ValueInfo>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub op_type: String,
    #[prost(string, tag = "7")]
    pub domain: String,
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<Attribute>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Attribute {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(int32, tag = "20")]
    pub r#type: i32,
    #[prost(float, tag = "2")]
    pub f: f32,
    #[prost(int64, tag = "3")]
    pub i: i64,
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// A sub-graph (If, Loop, Scan): present only to be refused.
    #[prost(bytes = "vec", optional, tag = "6")]
    pub g: Option<Vec<u8>>,
    #[prost(float, repeated, packed = "false", tag = "7")]
    pub floats: Vec<f32>,
    #[prost(int64, repeated, packed = "false", tag = "8")]
    pub ints: Vec<i64>,
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
}

/// `AttributeProto.AttributeType` values used here.
pub mod attr_type {
    pub const INT: i32 = 2;
    pub const STRING: i32 = 3;
    pub const TENSOR: i32 = 4;
    pub const INTS: i32 = 7;
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    #[prost(int64, repeated, packed = "false", tag = "1")]
    pub dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    #[prost(string, tag = "8")]
    pub name: String,
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
    #[prost(double, repeated, tag = "10")]
    pub double_data: Vec<f64>,
    /// Where the data lives when not in this file: present only to be refused.
    #[prost(int32, tag = "14")]
    pub data_location: i32,
}

/// `TensorProto.DataType` values used here.
pub mod dtype {
    pub const FLOAT: i32 = 1;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const BOOL: i32 = 9;
    pub const DOUBLE: i32 = 11;
}

#[derive(Clone, PartialEq, Message)]
pub struct ValueInfo {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorType>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TensorType {
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    #[prost(message, optional, tag = "2")]
    pub shape: Option<Shape>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Shape {
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dim>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Dim {
    #[prost(oneof = "DimValue", tags = "1, 2")]
    pub value: Option<DimValue>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum DimValue {
    #[prost(int64, tag = "1")]
    Fixed(i64),
    #[prost(string, tag = "2")]
    Named(String),
}

impl TensorProto {
    pub fn floats(name: &str, dims: &[i64], values: Vec<f32>) -> Self {
        TensorProto {
            dims: dims.to_vec(),
            data_type: dtype::FLOAT,
            name: name.into(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        }
    }

    pub fn ints(name: &str, dims: &[i64], values: Vec<i64>) -> Self {
        TensorProto {
            dims: dims.to_vec(),
            data_type: dtype::INT64,
            name: name.into(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        }
    }

    /// The values as f32, whatever numeric type and storage the file used.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        let raw = &self.raw_data;
        match self.data_type {
            dtype::FLOAT if !raw.is_empty() => Some(
                raw.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
            ),
            dtype::FLOAT => Some(self.float_data.clone()),
            dtype::DOUBLE if !raw.is_empty() => Some(
                raw.chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                    .collect(),
            ),
            dtype::DOUBLE => Some(self.double_data.iter().map(|&v| v as f32).collect()),
            _ => self
                .to_i64()
                .map(|v| v.into_iter().map(|x| x as f32).collect()),
        }
    }

    /// The values as i64, for integer tensors.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        let raw = &self.raw_data;
        match self.data_type {
            dtype::INT64 if !raw.is_empty() => Some(
                raw.chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                    .collect(),
            ),
            dtype::INT64 => Some(self.int64_data.clone()),
            dtype::INT32 if !raw.is_empty() => Some(
                raw.chunks_exact(4)
                    .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                    .collect(),
            ),
            dtype::INT32 => Some(self.int32_data.iter().map(|&v| i64::from(v)).collect()),
            _ => None,
        }
    }
}

impl Attribute {
    pub fn int(name: &str, i: i64) -> Self {
        Attribute {
            name: name.into(),
            r#type: attr_type::INT,
            i,
            ..Default::default()
        }
    }

    pub fn ints(name: &str, ints: &[i64]) -> Self {
        Attribute {
            name: name.into(),
            r#type: attr_type::INTS,
            ints: ints.to_vec(),
            ..Default::default()
        }
    }

    pub fn string(name: &str, s: &str) -> Self {
        Attribute {
            name: name.into(),
            r#type: attr_type::STRING,
            s: s.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    pub fn tensor(name: &str, t: TensorProto) -> Self {
        Attribute {
            name: name.into(),
            r#type: attr_type::TENSOR,
            t: Some(t),
            ..Default::default()
        }
    }
}

impl NodeProto {
    pub fn new(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<Attribute>) -> Self {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: outputs.first().map_or_else(String::new, |s| s.to_string()),
            op_type: op.into(),
            domain: String::new(),
            attribute: attrs,
        }
    }

    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attribute.iter().find(|a| a.name == name)
    }

    pub fn attr_int(&self, name: &str, default: i64) -> i64 {
        self.attr(name).map_or(default, |a| a.i)
    }

    pub fn attr_float(&self, name: &str, default: f32) -> f32 {
        self.attr(name).map_or(default, |a| a.f)
    }

    pub fn attr_ints(&self, name: &str) -> Option<Vec<i64>> {
        self.attr(name).map(|a| a.ints.clone())
    }

    pub fn attr_str(&self, name: &str) -> Option<String> {
        self.attr(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
}

impl ValueInfo {
    /// A float tensor whose dims are numbers, or names (`N`) where free.
    pub fn tensor(name: &str, elem_type: i32, dims: &[Option<i64>]) -> Self {
        ValueInfo {
            name: name.into(),
            r#type: Some(TypeProto {
                tensor_type: Some(TensorType {
                    elem_type,
                    shape: Some(Shape {
                        dim: dims
                            .iter()
                            .map(|d| Dim {
                                value: Some(match d {
                                    Some(v) => DimValue::Fixed(*v),
                                    None => DimValue::Named("N".into()),
                                }),
                            })
                            .collect(),
                    }),
                }),
            }),
        }
    }

    /// A tensor of a known element type and unknown shape (the shape probe's outputs).
    pub fn untyped_shape(name: &str, elem_type: i32) -> Self {
        ValueInfo {
            name: name.into(),
            r#type: Some(TypeProto {
                tensor_type: Some(TensorType {
                    elem_type,
                    shape: None,
                }),
            }),
        }
    }

    pub fn elem_type(&self) -> Option<i32> {
        self.r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .map(|t| t.elem_type)
    }

    /// The dims, `None` where free or named.
    pub fn dims(&self) -> Option<Vec<Option<i64>>> {
        let shape = self.r#type.as_ref()?.tensor_type.as_ref()?.shape.as_ref()?;
        Some(
            shape
                .dim
                .iter()
                .map(|d| match d.value {
                    Some(DimValue::Fixed(v)) if v > 0 => Some(v),
                    _ => None,
                })
                .collect(),
        )
    }
}
