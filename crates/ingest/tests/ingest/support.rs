//! Shared helpers: SDK clients for moto, streams, a recording PutEvents fake, an in-process
//! sidecar, personalize-local seeded with a trained campaign, and bounded waits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use personalize_ingest::backoff::Backoff;
use personalize_ingest::checkpoint_store::{CheckpointStore, FileStore};
use personalize_ingest::dead_letter::DeadLetter;
use personalize_ingest::kinesis::Source;
use personalize_ingest::metrics::Metrics;
use personalize_ingest::sidecar::{Settings, Sidecar};
use personalize_ingest::sink::{RateLimiter, Sink};
use personalize_ingest::tracking::TrackingId;
use personalize_testkit::Moto;

pub use super::fake_kinesis::FakeKinesis;
use serde_json::Value;

/// A fresh, empty directory under the system temp dir (kept after the test).
pub fn temp_dir(name: &str) -> PathBuf {
    personalize_testkit::temp_dir(&format!("ingest-{name}")).expect("create temp dir")
}

/// A unique stream name.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{}", std::process::id(), nanos % 1_000_000_000)
}

pub async fn sdk_config(endpoint: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            key, secret, None, None, "static",
        ))
        .load()
        .await
}

pub async fn moto() -> &'static Moto {
    Moto::shared().await.expect("moto starts")
}

pub async fn kinesis(moto: &Moto) -> aws_sdk_kinesis::Client {
    kinesis_at(moto).await
}

/// A Kinesis client for moto or the in-process fake.
pub async fn kinesis_at(at: &impl KinesisEndpoint) -> aws_sdk_kinesis::Client {
    aws_sdk_kinesis::Client::new(&sdk_config(at.kinesis_endpoint(), "test", "test").await)
}

/// Where a sidecar reads Kinesis: moto, or [`FakeKinesis`] when moto falls short (resharding).
pub trait KinesisEndpoint {
    fn kinesis_endpoint(&self) -> &str;
}

impl KinesisEndpoint for Moto {
    fn kinesis_endpoint(&self) -> &str {
        self.endpoint()
    }
}

impl KinesisEndpoint for FakeKinesis {
    fn kinesis_endpoint(&self) -> &str {
        &self.url
    }
}

/// Creates a stream with `shards` shards and waits until it is ACTIVE.
pub async fn create_stream(client: &aws_sdk_kinesis::Client, name: &str, shards: i32) {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .expect("CreateStream");
    wait_for("stream ACTIVE", Duration::from_secs(30), || async {
        client
            .describe_stream_summary()
            .stream_name(name)
            .send()
            .await
            .ok()
            .and_then(|o| o.stream_description_summary)
            .map(|s| s.stream_status.as_str() == "ACTIVE")
            .unwrap_or(false)
    })
    .await;
}

/// A TRIM_HORIZON iterator of `shard_id`.
pub async fn trim_horizon(k: &aws_sdk_kinesis::Client, stream: &str, shard_id: &str) -> String {
    k.get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard_id)
        .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
        .send()
        .await
        .expect("GetShardIterator")
        .shard_iterator
        .expect("iterator")
}

/// Puts `(partition key, data)` records with PutRecords (500 per call), retrying failures.
pub async fn put_records(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    records: &[(String, Vec<u8>)],
) {
    for chunk in records.chunks(500) {
        let entries: Vec<PutRecordsRequestEntry> = chunk
            .iter()
            .map(|(k, d)| {
                PutRecordsRequestEntry::builder()
                    .partition_key(k)
                    .data(Blob::new(d.clone()))
                    .build()
                    .expect("entry")
            })
            .collect();
        let out = client
            .put_records()
            .stream_name(stream)
            .set_records(Some(entries))
            .send()
            .await
            .expect("PutRecords");
        assert_eq!(out.failed_record_count(), Some(0), "PutRecords failures");
    }
}

/// The seed's record JSON.
pub fn seed_record(user: &str, item: &str, sent_at: i64) -> Vec<u8> {
    serde_json::json!({
        "userId": user, "interactions": 1, "itemId": item, "trackingId": "ignored",
        "eventType": "click", "sentAt": sent_at.to_string()
    })
    .to_string()
    .into_bytes()
}

/// The entries of a dead-letter file (none when it does not exist yet).
pub fn dead_letters(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a dead-letter line is JSON"))
        .collect()
}

/// Polls `check` every 50 ms until it is true, panicking after `timeout`.
pub async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One event as the fake received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub tracking_id: String,
    pub user_id: Option<String>,
    pub event: Value,
}

#[derive(Default)]
pub struct FakeState {
    pub received: Mutex<Vec<Received>>,
    /// Answer this many calls with a 500 first (then succeed).
    pub fail_first: Mutex<usize>,
    pub calls: Mutex<usize>,
}

/// A recording PutEvents endpoint on 127.0.0.1: accepts everything except events whose
/// eventType is `reject-me` (400 InvalidInputException, like Personalize).
pub struct FakeEvents {
    pub url: String,
    pub state: Arc<FakeState>,
}

impl FakeEvents {
    pub async fn start() -> FakeEvents {
        let state = Arc::new(FakeState::default());
        let app = axum::Router::new()
            .route("/events", axum::routing::post(fake_put_events))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeEvents { url, state }
    }

    /// Events received so far (duplicates included); cheap enough to poll.
    pub fn count(&self) -> usize {
        self.state.received.lock().expect("lock").len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }

    /// Distinct event ids received, and how many events arrived in total.
    pub fn distinct_ids(&self) -> (HashMap<String, usize>, usize) {
        let received = self.state.received.lock().expect("lock");
        let mut ids: HashMap<String, usize> = HashMap::new();
        for r in received.iter() {
            let id = r.event["eventId"].as_str().unwrap_or_default().to_owned();
            *ids.entry(id).or_default() += 1;
        }
        (ids, received.len())
    }
}

async fn fake_put_events(
    State(state): State<Arc<FakeState>>,
    body: Bytes,
) -> axum::response::Response {
    *state.calls.lock().expect("lock") += 1;
    {
        let mut fail = state.fail_first.lock().expect("lock");
        if *fail > 0 {
            *fail -= 1;
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("x-amzn-errortype", "InternalFailure")],
                r#"{"message":"injected"}"#,
            )
                .into_response();
        }
    }
    let mut req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad json").into_response(),
    };
    // Taken, not cloned: this fake shares the CPU with the sidecar in the benchmarks.
    let list = match req.get_mut("eventList").map(Value::take) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    if list.iter().any(|e| e["eventType"] == "reject-me") {
        return (
            StatusCode::BAD_REQUEST,
            [("x-amzn-errortype", "InvalidInputException")],
            r#"{"message":"eventType reject-me is not allowed"}"#,
        )
            .into_response();
    }
    let mut received = state.received.lock().expect("lock");
    for e in list {
        received.push(Received {
            tracking_id: req["trackingId"].as_str().unwrap_or_default().to_owned(),
            user_id: req["userId"].as_str().map(str::to_owned),
            event: e,
        });
    }
    StatusCode::OK.into_response()
}

/// A sidecar running in this process.
pub struct RunningSidecar {
    pub metrics: Arc<Metrics>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSidecar {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("sidecar stops within 30 s")
            .expect("sidecar task");
    }
}

/// Starts a sidecar on `stream` sending to `events_url`, checkpointing into `dir`.
pub async fn start_sidecar(
    moto: &impl KinesisEndpoint,
    stream: &str,
    events_url: &str,
    tracking: TrackingId,
    dir: &Path,
    dead_letter: Option<DeadLetter>,
    tune: impl FnOnce(&mut Settings),
) -> RunningSidecar {
    start_sidecar_with_rate(
        moto,
        stream,
        events_url,
        tracking,
        dir,
        dead_letter,
        tune,
        1000.0,
        None,
    )
    .await
}

/// [`start_sidecar`] with a PutEvents rate limit (calls per second; 0 for none).
#[allow(clippy::too_many_arguments)]
pub async fn start_sidecar_with_rate(
    moto: &impl KinesisEndpoint,
    stream: &str,
    events_url: &str,
    tracking: TrackingId,
    dir: &Path,
    dead_letter: Option<DeadLetter>,
    tune: impl FnOnce(&mut Settings),
    rate: f64,
    store: Option<CheckpointStore>,
) -> RunningSidecar {
    let events_config = sdk_config(events_url, "AKIDLOCALTEST", "local-test-secret").await;
    let metrics = Arc::new(Metrics::default());
    let mut settings = Settings::new(stream);
    settings.idle_poll = Duration::from_millis(50);
    settings.shard_sync = Duration::from_millis(500);
    tune(&mut settings);
    let sidecar = Arc::new(Sidecar {
        settings,
        source: Source {
            client: kinesis_at(moto).await,
            stream: stream.to_owned(),
        },
        sink: Sink {
            client: personalize_ingest::events_client(&events_config),
            limiter: RateLimiter::per_second(rate),
            backoff: Backoff {
                base: Duration::from_millis(10),
                max: Duration::from_millis(500),
            },
            metrics: metrics.clone(),
        },
        tracking,
        checkpoints: match store {
            Some(store) => store,
            None => CheckpointStore::File(
                FileStore::open(dir.join("checkpoints.json"))
                    .await
                    .expect("checkpoints"),
            ),
        },
        dead_letter: dead_letter.unwrap_or_else(|| DeadLetter::file(dir.join("dead-letter.jsonl"))),
        metrics: metrics.clone(),
        kinesis_ok: Arc::new(AtomicBool::new(false)),
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(sidecar.run(stopped));
    RunningSidecar {
        metrics,
        stop,
        task,
    }
}

/// The shared control plane with the operator's CRDs applied, once per test binary (tests
/// applying them concurrently would race to create them). They are generated from the API
/// types this crate reads, not read from `crds/`: that directory is regenerated from the same
/// types (a test of the operator fails when it drifts) but can lag behind them within a change,
/// and the apiserver would silently prune the status fields it does not know yet.
pub async fn cluster_with_crds() -> &'static personalize_testkit::ControlPlane {
    static CRDS: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let cluster = personalize_testkit::ControlPlane::shared()
        .await
        .expect("control plane");
    CRDS.get_or_init(|| async {
        let api: kube::Api<CustomResourceDefinition> = kube::Api::all(cluster.client());
        let pp = kube::api::PatchParams::apply("ingest-tests").force();
        for crd in personalize_api::crds() {
            let name = crd.metadata.name.clone().expect("a CRD has a name");
            api.patch(&name, &pp, &kube::api::Patch::Apply(&crd))
                .await
                .unwrap_or_else(|e| panic!("apply CRD {name}: {e}"));
        }
    })
    .await;
    cluster
}

/// personalize-local (its configuration changed by `tune` first) with a trained campaign and an
/// event tracker on the generated interactions (no items).
pub async fn deployed_local(
    name: &str,
    tune: impl FnOnce(&mut personalize_local::Config),
) -> (
    personalize_local::Running,
    personalize_testkit::personalize::Deployed,
) {
    let dir = temp_dir(name);
    let mut config = personalize_local::Config::for_tests(Some(dir.clone()));
    tune(&mut config);
    let server = personalize_local::Running::start(config)
        .await
        .expect("personalize-local starts");
    let interactions = personalize_testkit::personalize::interactions_csv();
    let data = personalize_testkit::personalize::Data {
        interactions_csv: &interactions,
        items: None,
    };
    let deployed = personalize_testkit::personalize::deploy(&server.url(), &dir, name, data)
        .await
        .expect("a trained campaign and an event tracker on personalize-local");
    (server, deployed)
}

/// A benchmark's setting: env var `name` as a number, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every record on the first shard of `stream`, as JSON (a test's few records: one GetRecords).
pub async fn stream_records(k: &aws_sdk_kinesis::Client, stream: &str) -> Vec<Value> {
    let shards = k
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .expect("ListShards");
    let shard = shards.shards()[0].shard_id().to_owned();
    let it = trim_horizon(k, stream, &shard).await;
    let out = k
        .get_records()
        .shard_iterator(it)
        .send()
        .await
        .expect("GetRecords");
    out.records()
        .iter()
        .map(|r| serde_json::from_slice(r.data().as_ref()).expect("a JSON record"))
        .collect()
}
