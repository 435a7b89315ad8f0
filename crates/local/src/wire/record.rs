//! Response recording for conformance checks: with `PERSONALIZE_LOCAL_RECORD=FILE` (or
//! [`Config::record`](crate::Config)) every answered operation appends one JSON line
//! `{"service", "operation", "status", "body"}` to FILE, which `tests/check_responses.py` checks
//! against the official models. Lines are appended whole (one write per line, `O_APPEND`), so
//! several servers, in one process or many, can share a file. Depends on serde_json only.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// The environment variable naming the record file.
pub const ENV: &str = "PERSONALIZE_LOCAL_RECORD";

/// An open record file.
#[derive(Debug)]
pub struct Recorder {
    file: Mutex<File>,
}

impl Recorder {
    /// Opens `path` for appending (creating it).
    pub fn open(path: &Path) -> std::io::Result<Recorder> {
        let file = File::options().create(true).append(true).open(path)?;
        Ok(Recorder {
            file: Mutex::new(file),
        })
    }

    /// Appends one answered operation; the body is kept as JSON when it is JSON. A failed write
    /// is logged, never fails the request.
    pub fn record(&self, service: &str, operation: &str, status: u16, body: &[u8]) {
        let body = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(body).into_owned())
            })
        };
        let mut line = serde_json::json!({
            "service": service,
            "operation": operation,
            "status": status,
            "body": body,
        })
        .to_string();
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::warn!(error = %e, "recording a response");
        }
    }
}
