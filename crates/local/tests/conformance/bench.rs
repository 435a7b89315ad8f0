//! PutEvents throughput (ignored by default; run with
//! `cargo test -p personalize-local --release --test conformance bench -- --ignored --nocapture`).
//! 10 events per call, many concurrent connections, journal fsync on, client in the same process.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use personalize_local::{Config, Running};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn put_events_throughput() {
    let dir = temp_dir("bench");
    let server = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("server starts");
    let (cp, _, _) = clients(&server.url()).await;
    let dg = cp
        .create_dataset_group()
        .name("bench")
        .send()
        .await
        .expect("dg")
        .dataset_group_arn
        .expect("arn");
    let tracking_id = cp
        .create_event_tracker()
        .name("bench")
        .dataset_group_arn(&dg)
        .send()
        .await
        .expect("tracker")
        .tracking_id
        .expect("id");
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let url: hyper::Uri = format!("{}/events", server.url()).parse().expect("uri");
    let duration = Duration::from_secs(5);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..64 {
        let client = client.clone();
        let url = url.clone();
        let tracking_id = tracking_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut calls = 0u64;
            while started.elapsed() < duration {
                let events: Vec<String> = (0..10)
                    .map(|k| {
                        format!(
                            r#"{{"eventType":"click","itemId":"i{}","sentAt":{}}}"#,
                            (calls * 10 + k) % 500,
                            1_800_000_000 + calls
                        )
                    })
                    .collect();
                let body = format!(
                    r#"{{"trackingId":"{tracking_id}","userId":"u{}","sessionId":"s{worker}","eventList":[{}]}}"#,
                    (worker as u64 * 1000 + calls) % 5000,
                    events.join(",")
                );
                let request = hyper::Request::post(url.clone())
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .expect("request");
                let response = client.request(request).await.expect("PutEvents");
                assert!(response.status().is_success());
                let _ = response.into_body().collect().await;
                calls += 1;
            }
            calls
        }));
    }
    let mut calls = 0;
    for task in tasks {
        calls += task.await.expect("worker");
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "PutEvents: {calls} calls, {} events in {secs:.1}s = {:.0} events/s (fsync on, 64 connections)",
        calls * 10,
        calls as f64 * 10.0 / secs
    );
    server.stop().await.expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}
