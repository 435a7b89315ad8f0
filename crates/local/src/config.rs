//! Server configuration: what the binary fills from flags and environment and tests build with
//! [`Config::for_tests`]. Depends on nothing in the crate but the fault settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::wire::faults;

/// The default CloudWatch namespace of metric attribution reports. AWS documents no namespace
/// for them and CloudWatch reserves `AWS/` for AWS itself, so it is a custom one.
pub const DEFAULT_CLOUDWATCH_NAMESPACE: &str = "PersonalizeMetricAttribution";

/// Server configuration (the binary fills it from flags and environment).
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (loopback by default).
    pub listen: SocketAddr,
    /// Where the journal, models and bucket directories live; None keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Account id in ARNs.
    pub account: String,
    /// Region in ARNs.
    pub region: String,
    /// Time each state-machine step takes (zero: instant, for tests).
    pub transition: Duration,
    /// S3 endpoint for import data locations (else `<data-dir>/s3/<bucket>/<key>`).
    pub s3_endpoint: Option<String>,
    /// CloudWatch endpoint metric attribution reports are published to (PutMetricData); without
    /// one, CreateMetricAttribution is refused (AWS always publishes them to CloudWatch).
    pub cloudwatch_endpoint: Option<String>,
    /// The CloudWatch namespace of metric attribution reports (AWS does not document its own).
    pub cloudwatch_namespace: String,
    /// How often pending metric attribution values are published to CloudWatch.
    pub cloudwatch_interval: Duration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// fdatasync the journal before acknowledging (off only for benchmarks).
    pub fsync: bool,
    /// Verify SigV4 signatures against `credentials`.
    pub verify_sigv4: bool,
    /// Known access key id / secret pairs for SigV4 verification.
    pub credentials: Vec<(String, String)>,
    /// Listen beyond loopback without `--verify-sigv4` and credentials (anyone who can reach the
    /// port can then create, read and delete everything).
    pub allow_unauthenticated_remote: bool,
    /// Fault injection.
    pub faults: faults::FaultConfig,
    /// Seed for training and anything random.
    pub seed: u64,
    /// When auto-training starts a solution's first version (AWS: within an hour).
    pub auto_training_first_delay: Duration,
    /// Append every answered operation to this JSON-lines file (conformance checks).
    pub record: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8089)),
            data_dir: None,
            account: "000000000000".into(),
            region: "us-east-1".into(),
            transition: Duration::from_secs(2),
            s3_endpoint: None,
            cloudwatch_endpoint: None,
            cloudwatch_namespace: DEFAULT_CLOUDWATCH_NAMESPACE.into(),
            cloudwatch_interval: Duration::from_secs(60),
            max_body_bytes: 1 << 20,
            fsync: true,
            verify_sigv4: false,
            credentials: Vec::new(),
            allow_unauthenticated_remote: false,
            faults: faults::FaultConfig::default(),
            seed: 42,
            auto_training_first_delay: Duration::from_secs(3600),
            record: None,
        }
    }
}

/// A listen address the configuration does not allow.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to listen on {listen}: it is not a loopback address and requests would not be \
     authenticated; add --verify-sigv4 with --credential KEY:SECRET, or pass \
     --allow-unauthenticated-remote to accept unsigned requests from the network"
)]
pub struct ExposureError {
    pub listen: SocketAddr,
}

impl Config {
    /// Whether requests would be authenticated: `verify_sigv4` with at least one credential.
    pub fn authenticates(&self) -> bool {
        self.verify_sigv4 && !self.credentials.is_empty()
    }

    /// Refuses a non-loopback listen address unless requests are authenticated or
    /// `allow_unauthenticated_remote` says so explicitly.
    pub fn check_exposure(&self) -> Result<(), ExposureError> {
        if self.listen.ip().is_loopback()
            || self.authenticates()
            || self.allow_unauthenticated_remote
        {
            return Ok(());
        }
        Err(ExposureError {
            listen: self.listen,
        })
    }

    /// A configuration for tests: instant transitions, the given data dir, port 0, responses
    /// recorded when `PERSONALIZE_LOCAL_RECORD` names a file (so `hack/test.sh` can check them).
    pub fn for_tests(data_dir: Option<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            transition: Duration::ZERO,
            cloudwatch_interval: Duration::from_millis(200),
            record: std::env::var_os(crate::wire::record::ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_open_without_authentication() {
        let remote = SocketAddr::from(([0, 0, 0, 0], 8089));
        assert!(Config::default().check_exposure().is_ok());
        let open = Config {
            listen: remote,
            ..Config::default()
        };
        let err = open.check_exposure().expect_err("0.0.0.0 unauthenticated");
        assert!(
            err.to_string().contains("--allow-unauthenticated-remote"),
            "{err}"
        );
        assert!(err.to_string().contains("--verify-sigv4"), "{err}");
        let no_credentials = Config {
            verify_sigv4: true,
            ..open.clone()
        };
        assert!(no_credentials.check_exposure().is_err());
        let signed = Config {
            credentials: vec![("AKID".into(), "secret".into())],
            ..no_credentials
        };
        assert!(signed.check_exposure().is_ok());
        let explicit = Config {
            allow_unauthenticated_remote: true,
            ..open
        };
        assert!(explicit.check_exposure().is_ok());
    }
}
