//! FaceCloak: cloak the faces in photos so face-recognition scrapers cannot match them to you.
//!
//! The pipeline: [`io`] decodes photos upright, [`detect`] finds faces and landmarks, [`align`]
//! maps each face onto a shared 112×112 template, and [`recognise`] runs the surrogate
//! recognisers and their gradient graphs through ONNX Runtime ([`runtime`], [`models`]).

pub mod align;
pub mod detect;
pub mod error;
pub mod io;
pub mod models;
pub mod recognise;
pub mod runtime;

pub use error::{Error, Result};
