//! Durability: the real binary is SIGKILLed after acknowledged PutEvents and restarted on the same
//! data dir; every acknowledged event, resource and trained model is still there.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::*;

/// Starts the binary on a free loopback port; returns the child and its URL.
pub fn spawn_server(data_dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_personalize-local"))
        .args(["--listen", "127.0.0.1:0", "--transition-ms", "0", "--data-dir"])
        .arg(data_dir)
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
    (child, url)
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
    for user in 0..20 {
        let events = events.clone();
        let tracking_id = tracking_id.clone();
        tasks.push(tokio::spawn(async move {
            let items: Vec<String> = (0..50)
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
    assert_eq!(health_before["liveEvents"], 1000);

    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let (mut child, url) = spawn_server(&dir);
    let health_after = health(&url).await;
    assert_eq!(health_after["liveEvents"], 1000, "{health_after}");
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
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let _ = std::fs::remove_dir_all(dir);
}
