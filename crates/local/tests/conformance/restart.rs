//! Durability: the real binary is SIGKILLed after acknowledged PutEvents and restarted on the same
//! data dir; every acknowledged event, resource and trained model is still there.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::*;

/// The server child process, SIGKILLed when dropped (also when a test fails).
pub struct Server(Child);

impl Server {
    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts the binary on a free loopback port with instant transitions.
pub fn spawn_server(data_dir: &Path) -> (Server, String) {
    spawn_server_with(data_dir, 0)
}

/// Starts the binary on a free loopback port; returns the child and its URL.
pub fn spawn_server_with(data_dir: &Path, transition_ms: u64) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_personalize-local"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--transition-ms")
        .arg(transition_ms.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn personalize-local");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (Server(child), url)
}

async fn health(url: &str) -> serde_json::Value {
    let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<hyper::body::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let response = client
        .get(format!("{url}/health").parse().expect("uri"))
        .await
        .expect("GET /health");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    serde_json::from_slice(&body).expect("health json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing_acknowledged() {
    let dir = temp_dir("restart");
    let (mut child, url) = spawn_server(&dir);
    let (cp, events, rt) = clients(&url).await;
    let (dg, _, _) = seed_dataset_group(&cp, &dir, "durable").await;
    let (_, version) = train(
        &cp,
        &dg,
        "durable-up",
        "arn:aws:personalize:::recipe/aws-user-personalization",
    )
    .await;
    let campaign = cp
        .create_campaign()
        .name("durable")
        .solution_version_arn(&version)
        .send()
        .await
        .expect("campaign")
        .campaign_arn
        .expect("arn");
    let tracking_id = cp
        .create_event_tracker()
        .name("durable")
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("tracker")
        .tracking_id
        .expect("id");
    let before_events = recommend(&rt, &campaign, "u0", 10).await;
    // Many concurrent writers: every acknowledged call must survive.
    let mut tasks = Vec::new();
    // u0 gets 20 clicks in another cluster (its recommendations must move), u1..u20 get 50.
    let mut expected = 0;
    for user in 0..=20 {
        let events = events.clone();
        let tracking_id = tracking_id.clone();
        let n = if user == 0 { 20 } else { 50 };
        expected += n;
        tasks.push(tokio::spawn(async move {
            let items: Vec<String> = (0..n)
                .map(|k| format!("i{}", (k * CLUSTERS + 3) % ITEMS))
                .collect();
            put_clicks(&events, &tracking_id, &format!("u{user}"), &items).await;
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    let after_events = recommend(&rt, &campaign, "u0", 10).await;
    assert_ne!(before_events, after_events);
    let health_before = health(&url).await;
    assert_eq!(health_before["liveEvents"], expected);

    child.kill();

    let (mut child, url) = spawn_server(&dir);
    let health_after = health(&url).await;
    assert_eq!(health_after["liveEvents"], expected, "{health_after}");
    assert_eq!(health_after["resources"], health_before["resources"]);
    let (cp, _, rt) = clients(&url).await;
    let status = cp
        .describe_campaign()
        .campaign_arn(&campaign)
        .send()
        .await
        .expect("campaign survives")
        .campaign
        .and_then(|c| c.status)
        .unwrap_or_default();
    assert_eq!(status, "ACTIVE");
    let after_restart = recommend(&rt, &campaign, "u0", 10).await;
    assert_eq!(after_events, after_restart, "live events and model survive");
    child.kill();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_import_resumes_after_restart() {
    let dir = temp_dir("resume");
    put_object(&dir, "seed", "resume/interactions.csv", &interactions_csv());
    let (mut child, url) = spawn_server_with(&dir, 300);
    let (cp, _, _) = clients(&url).await;
    let dg = cp
        .create_dataset_group()
        .name("resume")
        .send()
        .await
        .expect("dg")
        .dataset_group_arn
        .expect("arn");
    let describe_dg = || async {
        cp.describe_dataset_group()
            .dataset_group_arn(&dg)
            .send()
            .await
            .expect("describe")
            .dataset_group
            .and_then(|g| g.status)
            .unwrap_or_default()
    };
    wait_status("dg", Duration::from_secs(10), describe_dg, &["ACTIVE"]).await;
    let schema = cp
        .create_schema()
        .name("resume")
        .schema(INTERACTIONS_SCHEMA)
        .send()
        .await
        .expect("schema")
        .schema_arn
        .expect("arn");
    let dataset = cp
        .create_dataset()
        .name("resume")
        .dataset_group_arn(&dg)
        .dataset_type("INTERACTIONS")
        .schema_arn(&schema)
        .send()
        .await
        .expect("dataset")
        .dataset_arn
        .expect("arn");
    let describe_dataset = || async {
        cp.describe_dataset()
            .dataset_arn(&dataset)
            .send()
            .await
            .expect("describe")
            .dataset
            .and_then(|d| d.status)
            .unwrap_or_default()
    };
    wait_status(
        "dataset",
        Duration::from_secs(10),
        describe_dataset,
        &["ACTIVE"],
    )
    .await;
    let job = cp
        .create_dataset_import_job()
        .job_name("resume")
        .dataset_arn(&dataset)
        .data_source(
            aws_sdk_personalize::types::DataSource::builder()
                .data_location("s3://seed/resume/interactions.csv")
                .build(),
        )
        .send()
        .await
        .expect("import")
        .dataset_import_job_arn
        .expect("arn");
    // Killed while the job is pending: the restarted server runs it to the end.
    child.kill();
    let (mut child, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    assert_eq!(wait_job(&cp, Job::Import, &job).await.0, "ACTIVE");
    child.kill();
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the binary on `data_dir` expecting it to refuse to start; returns its stderr.
fn refused_start(data_dir: &Path) -> String {
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_personalize-local"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run personalize-local");
    assert!(!output.status.success(), "a second writer must not start");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it fails at once"
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("listening"),
        "it never announced a port"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_per_data_dir() {
    let dir = temp_dir("one-writer");
    let (mut first, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    cp.create_dataset_group()
        .name("acknowledged")
        .send()
        .await
        .expect("first server writes");

    // A second server on the same dir fails at once, naming the holder (pid and start time).
    let stderr = refused_start(&dir);
    assert!(
        stderr.contains(&format!("pid {}", first.0.id())) && stderr.contains("started"),
        "{stderr}"
    );
    assert!(stderr.contains(&dir.display().to_string()), "{stderr}");

    // The first is undisturbed and keeps writing; nothing it acknowledged is lost on restart.
    cp.create_dataset_group()
        .name("after-the-refusal")
        .send()
        .await
        .expect("first server still writes");
    first.kill();

    // SIGKILL released the lock: the next server starts and finds both groups.
    let (mut second, url) = spawn_server(&dir);
    let (cp, _, _) = clients(&url).await;
    let names: Vec<String> = cp
        .list_dataset_groups()
        .send()
        .await
        .expect("list")
        .dataset_groups()
        .iter()
        .filter_map(|g| g.name().map(str::to_string))
        .collect();
    assert!(
        names.contains(&"acknowledged".to_string())
            && names.contains(&"after-the-refusal".to_string()),
        "{names:?}"
    );
    let stderr = refused_start(&dir);
    assert!(
        stderr.contains(&format!("pid {}", second.0.id())),
        "{stderr}"
    );
    second.kill();
    let _ = std::fs::remove_dir_all(dir);
}
