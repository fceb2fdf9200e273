//! FaceCloak: cloak the faces in photos so face-recognition scrapers cannot match them to you.
//!
//! The pipeline: [`io`] decodes photos upright, [`detect`] finds faces and landmarks, [`align`]
//! maps each face onto a shared 112×112 template, [`cloak`] optimises a perturbation per face
//! against the surrogate recognisers' gradient graphs ([`recognise`], run by ONNX Runtime through
//! [`runtime`] and [`models`]) back through the warp ([`warp`]) at full resolution, [`quality`]
//! keeps it within budget, and [`output`] writes the result in the input's format, atomically.
//! [`batch`] runs albums in parallel with progress events and a stop flag.

pub mod align;
pub mod batch;
pub mod bench;
pub mod cloak;
pub mod detect;
pub mod error;
#[cfg(feature = "eval")]
pub mod eval;
pub mod geometry;
pub mod heif;
pub mod io;
pub mod memory;
pub mod metadata;
pub mod models;
pub mod naming;
pub mod output;
pub mod pathname;
pub mod planes;
pub mod preview;
pub mod quality;
pub mod recognise;
pub mod runtime;
pub mod verify;
pub mod visibility;
pub mod warp;

pub use error::{Error, Result};
