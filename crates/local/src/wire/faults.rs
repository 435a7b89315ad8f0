//! Fault injection for resilience tests: per operation (or `*`), a seeded rate of throttling
//! (`LimitExceededException` where the operation's model lists it, AWS's common
//! `ThrottlingException` elsewhere), a rate of 5xx (`ServiceUnavailable`), and added latency. Off by default.
//!
//! Spec syntax (flag `--fault`, repeatable): `OP:throttle=0.1,error=0.05,latency_ms=20`.
//! Depends only on the AWS error shape and the service models.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::wire::error::ApiError;
use crate::wire::model;

/// Faults for one operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    /// Probability of a throttling error.
    pub throttle: f64,
    /// Probability of a 503.
    pub error: f64,
    /// Latency added to every request.
    pub latency: Duration,
}

/// All fault settings.
#[derive(Clone, Debug, Default)]
pub struct FaultConfig {
    /// By operation name; `*` applies to operations without their own entry.
    pub by_operation: BTreeMap<String, FaultSpec>,
    pub seed: u64,
}

impl FaultConfig {
    /// Parses and adds one `OP:key=value,...` spec.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let (op, settings) = spec
            .split_once(':')
            .ok_or_else(|| format!("fault spec {spec} must look like OP:throttle=0.1"))?;
        let mut fault = FaultSpec::default();
        for setting in settings.split(',').filter(|s| !s.is_empty()) {
            let (key, value) = setting
                .split_once('=')
                .ok_or_else(|| format!("fault setting {setting} must be key=value"))?;
            let number: f64 = value
                .parse()
                .map_err(|_| format!("fault setting {setting}: {value} is not a number"))?;
            match key {
                "throttle" => fault.throttle = number.clamp(0.0, 1.0),
                "error" => fault.error = number.clamp(0.0, 1.0),
                "latency_ms" => fault.latency = Duration::from_secs_f64(number.max(0.0) / 1e3),
                other => return Err(format!("unknown fault setting {other}")),
            }
        }
        self.by_operation.insert(op.to_string(), fault);
        Ok(())
    }
}

/// The injector: a seeded generator shared by all requests.
pub struct Faults {
    config: FaultConfig,
    rng: Mutex<u64>,
}

impl Faults {
    pub fn new(config: &FaultConfig) -> Faults {
        Faults {
            config: config.clone(),
            rng: Mutex::new(config.seed ^ 0x9e37_79b9_7f4a_7c15),
        }
    }

    fn next(&self) -> f64 {
        let mut s = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        // xorshift64*
        let mut x = if *s == 0 { 0x2545_f491_4f6c_dd1d } else { *s };
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *s = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Applies the faults configured for `op`: waits, then maybe fails.
    pub async fn inject(&self, op: &str) -> Result<(), ApiError> {
        let Some(spec) = self
            .config
            .by_operation
            .get(op)
            .or_else(|| self.config.by_operation.get("*"))
        else {
            return Ok(());
        };
        if !spec.latency.is_zero() {
            tokio::time::sleep(spec.latency).await;
        }
        if spec.throttle > 0.0 && self.next() < spec.throttle {
            let message = format!("Rate exceeded for {op} (injected)");
            return Err(if model::models_error(op, "LimitExceededException") {
                ApiError::LimitExceeded(message)
            } else {
                ApiError::Throttling(message)
            });
        }
        if spec.error > 0.0 && self.next() < spec.error {
            return Err(ApiError::ServiceUnavailable(format!(
                "Service unavailable for {op} (injected)"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let mut config = FaultConfig::default();
        config
            .add("PutEvents:throttle=0.5,latency_ms=10")
            .expect("valid");
        assert_eq!(config.by_operation["PutEvents"].throttle, 0.5);
        assert_eq!(
            config.by_operation["PutEvents"].latency,
            Duration::from_millis(10)
        );
        assert!(config.add("nocolon").is_err());
        assert!(config.add("X:bogus=1").is_err());
    }

    #[tokio::test]
    async fn seeded_rates_are_roughly_honoured() {
        let mut config = FaultConfig::default();
        config.add("*:throttle=0.3").expect("valid");
        let faults = Faults::new(&config);
        let mut failed = 0;
        for _ in 0..1000 {
            if faults.inject("CreateSchema").await.is_err() {
                failed += 1;
            }
        }
        assert!((200..400).contains(&failed), "{failed}");
    }
}
