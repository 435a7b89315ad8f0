//! Hyperparameters: reading `algorithmHyperParameters` values with defaults and clear errors.

use std::collections::BTreeMap;

use crate::TrainError;

/// Typed access to the string map of hyperparameters.
pub(crate) struct Params<'a>(pub(crate) &'a BTreeMap<String, String>);

impl Params<'_> {
    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub(crate) fn f64(&self, name: &str, default: f64) -> Result<f64, TrainError> {
        match self.0.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| TrainError::HyperParameter {
                    name: name.to_owned(),
                    value: raw.clone(),
                    reason: "not a number".to_owned(),
                }),
        }
    }

    pub(crate) fn f64_in(
        &self,
        name: &str,
        default: f64,
        lo: f64,
        hi: f64,
    ) -> Result<f64, TrainError> {
        let v = self.f64(name, default)?;
        if v < lo || v > hi {
            return Err(TrainError::HyperParameter {
                name: name.to_owned(),
                value: v.to_string(),
                reason: format!("must be within [{lo}, {hi}]"),
            });
        }
        Ok(v)
    }

    pub(crate) fn usize_in(
        &self,
        name: &str,
        default: usize,
        lo: usize,
        hi: usize,
    ) -> Result<usize, TrainError> {
        let v = self.f64_in(name, default as f64, lo as f64, hi as f64)?;
        if v.fract() != 0.0 {
            return Err(TrainError::HyperParameter {
                name: name.to_owned(),
                value: v.to_string(),
                reason: "must be a whole number".to_owned(),
            });
        }
        Ok(v as usize)
    }

    pub(crate) fn bool(&self, name: &str, default: bool) -> Result<bool, TrainError> {
        match self.0.get(name).map(|s| s.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(TrainError::HyperParameter {
                name: name.to_owned(),
                value: v,
                reason: "must be true or false".to_owned(),
            }),
        }
    }

    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim())
    }
}
