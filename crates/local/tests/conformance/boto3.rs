//! The seed walkthrough with boto3 (an independent client that validates requests against the
//! official service model), which goes on to call every operation of the three models and
//! asserts it did: runs `tests/boto3_walkthrough.py` with the project venv's python
//! (`hack/python/venv.sh`) against a server on 127.0.0.1:0 that verifies its signatures, plus a
//! second one with timed transitions for StopSolutionVersionCreation.

use std::path::PathBuf;
use std::process::Command;

use personalize_local::{Config, Running};

use crate::support::*;

pub fn venv_python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new("bash")
        .arg(root.join("hack/python/venv.sh"))
        .output()
        .expect("run hack/python/venv.sh");
    assert!(
        output.status.success(),
        "hack/python/venv.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("bin/python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_lifecycle_with_boto3() {
    let python = tokio::task::spawn_blocking(venv_python)
        .await
        .expect("venv");
    let dir = temp_dir("boto3");
    put_object(&dir, "seed", "py/interactions.csv", &interactions_csv());
    // boto3 signs every request: verify them, as AWS would.
    let server = Running::start(Config {
        verify_sigv4: true,
        credentials: vec![("AKIDLOCALTEST".into(), "local-test-secret".into())],
        // Metric attributions need a CloudWatch endpoint; this one is closed (the walkthrough
        // reads nothing back from CloudWatch: `metric_attribution.rs` does, from moto).
        cloudwatch_endpoint: Some("http://127.0.0.1:9".into()),
        ..Config::for_tests(Some(dir.clone()))
    })
    .await
    .expect("server starts");
    // StopSolutionVersionCreation needs a version still being created: every step takes 400 ms.
    let stop_dir = temp_dir("boto3-stop");
    put_object(
        &stop_dir,
        "seed",
        "py/interactions.csv",
        &interactions_csv(),
    );
    let stop_server = Running::start(Config {
        verify_sigv4: true,
        credentials: vec![("AKIDLOCALTEST".into(), "local-test-secret".into())],
        transition: std::time::Duration::from_millis(400),
        ..Config::for_tests(Some(stop_dir.clone()))
    })
    .await
    .expect("server starts");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/boto3_walkthrough.py");
    let (url, stop_url, data_dir) = (server.url(), stop_server.url(), dir.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(url)
            .arg("s3://seed/py/interactions.csv")
            .arg(data_dir)
            .arg(stop_url)
            .env("AWS_ACCESS_KEY_ID", "AKIDLOCALTEST")
            .env("AWS_SECRET_ACCESS_KEY", "local-test-secret")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run python")
    })
    .await
    .expect("python");
    assert!(
        output.status.success(),
        "boto3 walkthrough failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("boto3 called 79 of 79 operations"),
        "boto3 did not call every operation:\n{stdout}"
    );
    println!("{}", stdout.trim());
    server.stop().await.expect("stops");
    stop_server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(stop_dir);
}
