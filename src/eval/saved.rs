//! Results read back from a saved `report.json`: the same rows with recognisers named by
//! strings, turned back into the names [`RECOGNISERS`] holds (which the live rows borrow).

use serde::{Deserialize, Deserializer};

use super::{AtScale, Protection, Purifier, Visibility};
use crate::models::{RECOGNISERS, Role};

#[derive(Deserialize)]
pub(super) struct JudgeResult {
    judge: String,
    role: Role,
    purifier: Purifier,
    #[serde(flatten)]
    protection: Protection,
    at_scale: Vec<AtScale>,
    #[serde(default)]
    best_own_far: Option<f64>,
}

#[derive(Deserialize)]
pub(super) struct VariantResult {
    variant: String,
    held_out: Option<String>,
    surrogates: Vec<String>,
    upscale: u32,
    visibility: Visibility,
    protection: Vec<super::JudgeResult>,
    #[serde(default)]
    pipeline: Vec<super::StageResult>,
}

fn name(name: &str) -> Result<&'static str, String> {
    RECOGNISERS
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.name)
        .ok_or_else(|| format!("unknown recogniser `{name}`"))
}

/// A surrogate's name: a shipped recogniser's, or that of one a user added for the run (which
/// no table here holds), kept once per distinct name for the life of the process.
fn surrogate_name(name: &str) -> &'static str {
    static ADDED: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    if let Some(r) = RECOGNISERS.iter().find(|r| r.name == name) {
        return r.name;
    }
    let mut added = ADDED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(n) = added.iter().find(|n| **n == name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    added.push(leaked);
    leaked
}

// By hand rather than derived: a derived impl of a struct with `&'static str` fields only reads
// from `'static` input.
impl<'de> Deserialize<'de> for super::JudgeResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        JudgeResult::deserialize(d)?
            .try_into()
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for super::VariantResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        VariantResult::deserialize(d)?
            .try_into()
            .map_err(serde::de::Error::custom)
    }
}

impl TryFrom<JudgeResult> for super::JudgeResult {
    type Error = String;

    fn try_from(r: JudgeResult) -> Result<Self, String> {
        Ok(Self {
            judge: name(&r.judge)?,
            role: r.role,
            purifier: r.purifier,
            protection: r.protection,
            at_scale: r.at_scale,
            best_own_far: r.best_own_far,
        })
    }
}

impl TryFrom<VariantResult> for super::VariantResult {
    type Error = String;

    fn try_from(r: VariantResult) -> Result<Self, String> {
        Ok(Self {
            variant: r.variant,
            held_out: r.held_out.as_deref().map(name).transpose()?,
            surrogates: r.surrogates.iter().map(|s| surrogate_name(s)).collect(),
            upscale: r.upscale,
            visibility: r.visibility,
            protection: r.protection,
            pipeline: r.pipeline,
        })
    }
}
