//! Server configuration: what the binary fills from flags and environment and tests build with
//! [`Config::for_tests`]. Depends on nothing in the crate but the fault settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::wire::faults;

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
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// fdatasync the journal before acknowledging (off only for benchmarks).
    pub fsync: bool,
    /// Verify SigV4 signatures against `credentials`.
    pub verify_sigv4: bool,
    /// Known access key id / secret pairs for SigV4 verification.
    pub credentials: Vec<(String, String)>,
    /// Fault injection.
    pub faults: faults::FaultConfig,
    /// Seed for training and anything random.
    pub seed: u64,
    /// When auto-training starts a solution's first version (AWS: within an hour).
    pub auto_training_first_delay: Duration,
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
            max_body_bytes: 1 << 20,
            fsync: true,
            verify_sigv4: false,
            credentials: Vec::new(),
            faults: faults::FaultConfig::default(),
            seed: 42,
            auto_training_first_delay: Duration::from_secs(3600),
        }
    }
}

impl Config {
    /// A configuration for tests: instant transitions, the given data dir, port 0.
    pub fn for_tests(data_dir: Option<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            transition: Duration::ZERO,
            ..Config::default()
        }
    }
}
