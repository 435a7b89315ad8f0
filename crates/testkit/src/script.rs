//! Runs the repository's `hack/` scripts from tests: bounded in time, output captured, and the
//! state directories of services the testkit owns. Knows nothing of Kubernetes or AWS.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A `hack/` script that could not be run, failed, or did not finish in time.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The script could not be started at all.
    #[error("could not start {script}")]
    Spawn {
        script: PathBuf,
        source: std::io::Error,
    },
    /// The script ran and exited unsuccessfully; `stderr` holds what it reported.
    #[error("{script} failed ({status}):\n{stderr}")]
    Failed {
        script: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
    /// The script did not finish within the timeout and was killed.
    #[error("{script} did not finish within {timeout:?}; see the logs in its state dir")]
    Timeout { script: PathBuf, timeout: Duration },
}

/// The repository root. At run time, cargo names the tested package's directory in
/// `CARGO_MANIFEST_DIR`; the root is the nearest ancestor holding `hack/kube/up.sh`. Only without
/// it, this crate's own place (`<root>/crates/testkit`) at compile time: a target dir shared by
/// several clones can hold a build of this crate made in another clone.
pub(crate) fn repo_root() -> PathBuf {
    let tested = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let found = tested.as_deref().and_then(|dir| {
        dir.ancestors()
            .find(|d| d.join("hack/kube/up.sh").is_file())
            .map(Path::to_path_buf)
    });
    found.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A state directory private to this test process, under the gitignored `.cache/`.
pub(crate) fn owned_state_dir(kind: &str) -> PathBuf {
    repo_root()
        .join(".cache/testkit")
        .join(format!("{kind}-{}", std::process::id()))
}

/// A duration in whole seconds from env var `name`, or `default`.
pub(crate) fn env_timeout(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(default, Duration::from_secs)
}

/// The value of env var `name`, if set and not empty.
pub(crate) fn env_nonempty(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// Runs `<repo>/<script> args...` and returns the last line it printed on stdout (the scripts
/// print their state dir there). Its stderr is captured and echoed, so the test harness shows it
/// for failed tests. The script is killed if it runs longer than `timeout`.
pub(crate) async fn run(
    script: &str,
    args: &[OsString],
    timeout: Duration,
) -> Result<String, ScriptError> {
    let path = repo_root().join(script);
    let started = Instant::now();
    let child = tokio::process::Command::new(&path)
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| ScriptError::Spawn {
            script: path.clone(),
            source,
        })?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(source)) => {
            return Err(ScriptError::Spawn {
                script: path,
                source,
            });
        }
        Err(_elapsed) => {
            return Err(ScriptError::Timeout {
                script: path,
                timeout,
            });
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(ScriptError::Failed {
            script: path,
            status: output.status,
            stderr,
        });
    }
    eprint!("{stderr}");
    eprintln!("testkit: {script} took {:.1?}", started.elapsed());
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(stdout.lines().last().unwrap_or_default().trim().to_owned())
}
