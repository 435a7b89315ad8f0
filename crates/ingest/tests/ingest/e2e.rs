//! The vertical slice: events posted through the gateway reach personalize-local through moto
//! Kinesis and the sidecar (tracking id from an EventTracker CR on the real apiserver), and the
//! user's recommendations change. Also the freshness and throughput benchmarks (ignored tests
//! that print figures; `make bench-ingest`).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kube::Api;
use kube::api::{Patch, PatchParams};
use personalize_api::{Campaign, EventTracker};
use personalize_ingest::gateway::{self, GatewayState};
use personalize_ingest::tracking::TrackingId;
use personalize_local::{Config, Running};
use personalize_testkit::personalize::{CLUSTERS, Data, ITEMS, USERS, deploy};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::support::*;

/// personalize-local with a trained campaign and an event tracker (interactions only): (server,
/// campaign ARN, tracking id, tracker ARN).
pub async fn personalize_local(name: &str) -> (Running, String, String, String) {
    personalize_local_with(name, |_| {}).await
}

/// [`personalize_local`] with its configuration changed by `tune` first.
pub async fn personalize_local_with(
    name: &str,
    tune: impl FnOnce(&mut Config),
) -> (Running, String, String, String) {
    let (server, deployed) = deployed_local(name, tune).await;
    (
        server,
        deployed.campaign,
        deployed.tracking_id,
        deployed.event_tracker,
    )
}

/// Sends `req` to the gateway: status and JSON body.
pub async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.expect("gateway answers");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn post_data(stream: &str, user: &str, item: &str) -> Request<Body> {
    let body = json!({
        "stream-name": stream,
        "Data": {"userId": user, "interactions": 1, "itemId": item, "trackingId": "from-the-seed",
                 "eventType": "click", "sentAt": "1800000000"},
        "PartitionKey": "userId"
    });
    Request::post("/data")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

fn get_recs(query: &str) -> Request<Body> {
    Request::get(format!("/getRecommendations?{query}"))
        .body(Body::empty())
        .expect("request")
}

fn item_ids(v: &Value) -> Vec<String> {
    v["itemList"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|i| i["itemId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn apply(
    api_tracker: &Api<EventTracker>,
    api_campaign: &Api<Campaign>,
    campaign_arn: &str,
    tracking_id: &str,
    tracker_arn: &str,
) {
    let pp = PatchParams::apply("ingest-test").force();
    api_tracker
        .patch("tracker", &pp, &Patch::Apply(json!({
            "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "EventTracker",
            "metadata": {"name": "tracker"},
            "spec": {"datasetGroupArn": "arn:aws:personalize:us-east-1:000000000000:dataset-group/e2e"}
        })))
        .await
        .expect("apply EventTracker");
    api_tracker
        .patch_status("tracker", &PatchParams::default(), &Patch::Merge(json!({
            "status": {"arn": tracker_arn, "status": "CREATE IN_PROGRESS", "trackingId": tracking_id}
        })))
        .await
        .expect("EventTracker status");
    api_campaign
        .patch("movies", &pp, &Patch::Apply(json!({
            "apiVersion": "personalize-operator.dev/v1alpha1", "kind": "Campaign",
            "metadata": {"name": "movies"},
            "spec": {"versionPolicy": "Pinned", "solutionVersionArn": "arn:aws:personalize:us-east-1:000000000000:solution/e2e/abc"}
        })))
        .await
        .expect("apply Campaign");
    api_campaign
        .patch_status(
            "movies",
            &PatchParams::default(),
            &Patch::Merge(json!({
                "status": {"arn": campaign_arn, "status": "ACTIVE"}
            })),
        )
        .await
        .expect("Campaign status");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_events_reach_personalize_local_and_change_recommendations() {
    let cluster = cluster_with_crds().await;
    let ns = cluster
        .create_namespace("ingest-e2e")
        .await
        .expect("namespace");
    let client = cluster.client();
    let trackers: Api<EventTracker> = Api::namespaced(client.clone(), &ns);
    let campaigns: Api<Campaign> = Api::namespaced(client.clone(), &ns);
    // CRDs may take a moment to be served.
    wait_for("CRDs served", Duration::from_secs(30), || async {
        trackers.list(&Default::default()).await.is_ok()
    })
    .await;

    let (local, campaign_arn, tracking_id, tracker_arn) = personalize_local("e2e").await;
    apply(
        &trackers,
        &campaigns,
        &campaign_arn,
        &tracking_id,
        &tracker_arn,
    )
    .await;

    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("e2e");
    create_stream(&k, &stream, 2).await;

    let tracking = TrackingId::watch(client.clone(), &ns, "tracker");
    wait_for("tracker observed", Duration::from_secs(30), || async {
        tracking.current().tracking_id.is_some()
    })
    .await;
    assert!(!tracking.current().ready, "CREATE IN_PROGRESS is not ready");
    assert!(
        tracking.current().reason.contains("not ACTIVE"),
        "{:?}",
        tracking.current()
    );
    let dir = temp_dir("e2e");
    let sidecar = start_sidecar(
        moto,
        &stream,
        &local.url(),
        tracking.clone(),
        &dir,
        None,
        |_| {},
    )
    .await;

    let runtime_config = sdk_config(&local.url(), "AKIDLOCALTEST", "local-test-secret").await;
    let app = gateway::app(GatewayState {
        kinesis: k.clone(),
        runtime: aws_sdk_personalizeruntime::Client::new(&runtime_config),
        kube: Some(client.clone()),
        namespace: ns.clone(),
        default_stream: None,
        arms: Default::default(),
    });

    let (status, before) = call(&app, get_recs("campaign=movies&userId=u0&numResults=10")).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["$metadata"]["httpStatusCode"], 200);
    assert!(before["recommendationId"].is_string(), "{before}");
    assert!(before["itemList"][0]["score"].is_number(), "{before}");
    let before = item_ids(&before);
    assert_eq!(before.len(), 10);
    let (status, by_arn) = call(
        &app,
        get_recs(&format!(
            "campaignArn={campaign_arn}&userId=u0&numResults=10"
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(item_ids(&by_arn), before);

    // u0 is in cluster 0; it now clicks 20 items of cluster 3.
    for item in (0..ITEMS).filter(|i| i % CLUSTERS == 3).take(20) {
        let (status, body) = call(&app, post_data(&stream, "u0", &format!("i{item}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["Message"], "Event sent successfully");
        assert!(
            body["data"]["SequenceNumber"].is_string() && body["data"]["ShardId"].is_string(),
            "{body}"
        );
    }
    // Nothing is sent while the tracker is not ACTIVE; then it becomes ACTIVE.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        personalize_ingest::metrics::Metrics::get(&sidecar.metrics.events_sent),
        0
    );
    trackers
        .patch_status(
            "tracker",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"status": "ACTIVE"}})),
        )
        .await
        .expect("tracker ACTIVE");
    wait_for(
        "recommendations change",
        Duration::from_secs(30),
        || async {
            let (_, after) = call(&app, get_recs("campaign=movies&userId=u0&numResults=10")).await;
            item_ids(&after) != before
        },
    )
    .await;
    assert!(tracking.current().ready);
    wait_for("all 20 events sent", Duration::from_secs(30), || async {
        personalize_ingest::metrics::Metrics::get(&sidecar.metrics.events_sent) >= 20
    })
    .await;
    sidecar.stop().await;
    local.stop().await.expect("personalize-local stops");
}

/// The MovieLens CSVs the demo imports (`hack/data/movielens.sh`, then
/// `hack/data/movielens-csv.py`): the interactions file.
fn movielens_interactions() -> String {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.current_dir(&repo).output().expect("runs");
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let raw = run(&mut std::process::Command::new("hack/data/movielens.sh"));
    let out = temp_dir("seed-movielens");
    run(std::process::Command::new("python3")
        .arg("hack/data/movielens-csv.py")
        .arg(&raw)
        .arg(&out));
    std::fs::read_to_string(out.join("interactions.csv")).expect("interactions.csv")
}

/// The seed's walkthrough, verbatim but for host, stream name and ARNs: on the demo's MovieLens
/// data (clicks and watches, trained on both), user 429's `click` on item 185 through
/// `POST /data` changes `GET /getRecommendations?campaignArn=..&userId=429&numResults=5`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_curl_walkthrough_changes_user_429s_recommendations() {
    let interactions = movielens_interactions();
    for event_type in ["click", "watch"] {
        assert!(
            interactions.contains(&format!(",{event_type},")),
            "the demo data has {event_type} events"
        );
    }
    let dir = temp_dir("seed");
    let local = Running::start(Config::for_tests(Some(dir.clone())))
        .await
        .expect("personalize-local starts");
    let data = Data {
        interactions_csv: &interactions,
        items: None,
    };
    let deployed = deploy(&local.url(), &dir, "seed", data)
        .await
        .expect("MovieLens trained and deployed");

    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("seed");
    create_stream(&k, &stream, 1).await;
    let tracking = TrackingId::literal(deployed.tracking_id.clone());
    let sidecar = start_sidecar(moto, &stream, &local.url(), tracking, &dir, None, |_| {}).await;
    let runtime_config = sdk_config(&local.url(), "AKIDLOCALTEST", "local-test-secret").await;
    let app = gateway::app(GatewayState {
        kinesis: k.clone(),
        runtime: aws_sdk_personalizeruntime::Client::new(&runtime_config),
        kube: None,
        namespace: "default".into(),
        default_stream: None,
        arms: Default::default(),
    });

    let query = format!("campaignArn={}&userId=429&numResults=5", deployed.campaign);
    let (status, before) = call(&app, get_recs(&query)).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let before = item_ids(&before);
    assert_eq!(before.len(), 5, "{before:?}");

    // The seed's body, byte for byte but for the stream name.
    let body = format!(
        r#"{{"stream-name": "{stream}", "Data": {{"userId": "429", "interactions": 1, "itemId": "185", "trackingId": "...", "eventType": "click", "sentAt": "1698711110"}}, "PartitionKey": "userId"}}"#
    );
    let post = Request::post("/data")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let (status, answer) = call(&app, post).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["Message"], "Event sent successfully");

    wait_for(
        "user 429's recommendations to change after the click on 185",
        Duration::from_secs(30),
        || async {
            let (_, after) = call(&app, get_recs(&query)).await;
            item_ids(&after) != before
        },
    )
    .await;
    sidecar.stop().await;
    local.stop().await.expect("personalize-local stops");
}

/// Freshness: gateway POST /data -> a GetRecommendations that reflects the event, p50/p99.
/// A figure, not a test: `cargo test -p personalize-ingest --test ingest -- --ignored --nocapture bench_freshness`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --ignored"]
async fn bench_freshness() {
    let (local, campaign_arn, tracking_id, _) = personalize_local("fresh").await;
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("fresh");
    create_stream(&k, &stream, 1).await;
    let dir = temp_dir("fresh");
    let sidecar = start_sidecar(
        moto,
        &stream,
        &local.url(),
        TrackingId::literal(tracking_id),
        &dir,
        None,
        |_| {},
    )
    .await;
    let runtime_config = sdk_config(&local.url(), "AKIDLOCALTEST", "local-test-secret").await;
    let app = gateway::app(GatewayState {
        kinesis: k.clone(),
        runtime: aws_sdk_personalizeruntime::Client::new(&runtime_config),
        kube: None,
        namespace: "default".into(),
        default_stream: None,
        arms: Default::default(),
    });
    let samples = std::env::var("INGEST_BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200usize);
    let mut latencies = Vec::new();
    for n in 0..samples {
        let user = format!("u{}", n % USERS);
        let q = format!("campaignArn={campaign_arn}&userId={user}&numResults=10");
        let (_, before) = call(&app, get_recs(&q)).await;
        let before = item_ids(&before);
        // Click, repeatedly, items of another cluster until the list moves (one event may not move it).
        let cluster = (n % USERS % CLUSTERS + 3) % CLUSTERS;
        let start = Instant::now();
        let mut clicks = 0;
        let deadline = start + Duration::from_secs(10);
        let mut changed = false;
        while Instant::now() < deadline {
            if clicks < 10 {
                let item = format!(
                    "i{}",
                    (clicks * CLUSTERS + cluster + n * 7 * CLUSTERS) % ITEMS
                );
                let (status, _) = call(&app, post_data(&stream, &user, &item)).await;
                assert_eq!(status, StatusCode::OK);
                clicks += 1;
            }
            let (_, after) = call(&app, get_recs(&q)).await;
            if item_ids(&after) != before {
                changed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if changed {
            latencies.push(start.elapsed().as_secs_f64());
        }
    }
    sidecar.stop().await;
    local.stop().await.expect("stop");
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    assert!(!latencies.is_empty());
    println!(
        "{}",
        json!({"bench": "ingest_freshness", "samples": samples, "changed": latencies.len(),
               "p50_s": pct(0.5), "p99_s": pct(0.99), "max_s": pct(1.0)})
    );
    println!(
        "freshness POST /data -> changed GetRecommendations: p50 {:.3} s, p99 {:.3} s over {} of {} samples (targets 0.5 / 1.5 s)",
        pct(0.5),
        pct(0.99),
        latencies.len(),
        samples
    );
}
