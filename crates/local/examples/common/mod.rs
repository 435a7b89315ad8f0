//! Shared by the `bench_*` examples: MovieLens 100K into Personalize CSVs, a small raw-HTTP client
//! (control plane over AWS JSON 1.1, REST JSON for events and runtime) for the measured calls,
//! the ML-100K deployment (dataset group .. campaign, through `personalize_testkit::personalize`)
//! and a bounded closed-loop load generator. Every wait and loop is
//! bounded in count and time; every address is loopback.

// Each example uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use personalize_testkit::personalize::Data;
pub use personalize_testkit::personalize::Deployed;
use serde_json::{Value, json};

/// Per-request timeout of every HTTP call the benchmarks make.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Minimal command-line parsing: `--name value` pairs (no extra dependency).
pub struct Args(Vec<String>);

impl Args {
    pub fn from_env() -> Args {
        Args(std::env::args().skip(1).collect())
    }

    /// The value after `--name`, if given.
    pub fn get(&self, name: &str) -> Option<String> {
        let flag = format!("--{name}");
        self.0
            .iter()
            .position(|a| *a == flag)
            .and_then(|i| self.0.get(i + 1).cloned())
    }

    /// The value after `--name` parsed, or `default`.
    pub fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("--{name}: cannot parse {v:?}")),
        }
    }

    /// `--data DIR` (the directory `hack/data/movielens.sh` prints).
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        self.get("data")
            .map(PathBuf::from)
            .context("--data DIR is required (the directory hack/data/movielens.sh prints)")
    }
}

/// A fresh, empty directory under the system temp dir (kept afterwards).
pub fn temp_dir(name: &str) -> anyhow::Result<PathBuf> {
    personalize_testkit::temp_dir(&format!("local-{name}"))
        .with_context(|| format!("creating a temp dir for {name}"))
}

/// MovieLens 100K converted like `hack/data/movielens-csv.py` (every rating is a "watch").
pub struct Ml100k {
    pub interactions_csv: String,
    pub items_csv: String,
    pub users: Vec<String>,
    pub items: Vec<String>,
    pub interactions: usize,
}

/// Reads recbole's tab-separated `ml-100k.inter` / `ml-100k.item` from `dir`.
pub fn load_ml100k(dir: &Path) -> anyhow::Result<Ml100k> {
    let read = |name: &str| -> anyhow::Result<String> {
        let bytes = std::fs::read(dir.join(name))
            .with_context(|| format!("reading {}", dir.join(name).display()))?;
        // ml-100k.item is latin-1; ids and genres are ASCII, titles are not used.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut interactions = csv::Writer::from_writer(Vec::new());
    interactions.write_record(["USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"])?;
    let mut users = std::collections::BTreeSet::new();
    let mut count = 0;
    for (n, line) in read("ml-100k.inter")?.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            bail!("ml-100k.inter line {}: expected 4 fields", n + 1);
        }
        let ts: f64 = f[3]
            .trim()
            .parse()
            .with_context(|| format!("ml-100k.inter line {}: timestamp", n + 1))?;
        interactions.write_record([f[0], f[1], "watch", &(ts as i64).to_string()])?;
        users.insert(f[0].to_string());
        count += 1;
    }
    let mut items_csv = csv::Writer::from_writer(Vec::new());
    items_csv.write_record(["ITEM_ID", "GENRES", "YEAR"])?;
    let mut items = Vec::new();
    for line in read("ml-100k.item")?.lines().skip(1) {
        let mut f: Vec<&str> = line.split('\t').collect();
        f.resize(4, "");
        let genres = f[3].split_whitespace().collect::<Vec<_>>().join("|");
        let year = if !f[2].is_empty() && f[2].bytes().all(|b| b.is_ascii_digit()) {
            f[2]
        } else {
            ""
        };
        items_csv.write_record([f[0], genres.as_str(), year])?;
        items.push(f[0].to_string());
    }
    let to_string = |w: csv::Writer<Vec<u8>>| -> anyhow::Result<String> {
        Ok(String::from_utf8(
            w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?,
        )?)
    };
    Ok(Ml100k {
        interactions_csv: to_string(interactions)?,
        items_csv: to_string(items_csv)?,
        users: users.into_iter().collect(),
        items,
        interactions: count,
    })
}

/// A raw HTTP/1.1 client for one server.
#[derive(Clone)]
pub struct Http {
    pub client: Client<HttpConnector, Full<Bytes>>,
    pub base: String,
}

impl Http {
    pub fn new(base: &str) -> Http {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Http {
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(1024)
                .build(connector),
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// One request; returns the status and the whole body.
    pub async fn send(
        &self,
        method: hyper::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request.body(Full::new(body))?;
        let exchange = async {
            let response = self.client.request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok((status, body))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .with_context(|| format!("{path}: no answer within {REQUEST_TIMEOUT:?}"))?
    }

    /// A control-plane operation (AWS JSON 1.1); errors on a non-2xx answer.
    pub async fn control(&self, op: &str, input: Value) -> anyhow::Result<Value> {
        let target = format!("AmazonPersonalize.{op}");
        let (status, body) = self
            .send(
                hyper::Method::POST,
                "/",
                &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("x-amz-target", &target),
                ],
                Bytes::from(input.to_string()),
            )
            .await?;
        if !status.is_success() {
            bail!("{op}: {status}: {}", String::from_utf8_lossy(&body));
        }
        serde_json::from_slice(&body).with_context(|| format!("{op}: answer is not JSON"))
    }

    /// A REST JSON call (events, runtime); errors on a non-2xx answer.
    pub async fn rest(&self, path: &str, body: Bytes) -> anyhow::Result<Bytes> {
        let (status, answer) = self
            .send(
                hyper::Method::POST,
                path,
                &[("content-type", "application/json")],
                body,
            )
            .await?;
        if !status.is_success() {
            bail!("{path}: {status}: {}", String::from_utf8_lossy(&answer));
        }
        Ok(answer)
    }

    /// `GET /health` as JSON (errors unless 200).
    pub async fn health(&self) -> anyhow::Result<Value> {
        let (status, body) = self
            .send(hyper::Method::GET, "/health", &[], Bytes::new())
            .await?;
        if status != hyper::StatusCode::OK {
            bail!("/health: {status}");
        }
        Ok(serde_json::from_slice(&body)?)
    }

    /// Polls `op` until the string at `pointer` is one of `done` (bounded by `timeout`).
    pub async fn wait_status(
        &self,
        op: &str,
        input: Value,
        pointer: &str,
        done: &[&str],
        timeout: Duration,
    ) -> anyhow::Result<String> {
        let started = Instant::now();
        loop {
            let answer = self.control(op, input.clone()).await?;
            let status = answer
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if done.contains(&status.as_str()) {
                return Ok(status);
            }
            if started.elapsed() > timeout {
                bail!("{op}: still {status:?} after {timeout:?}: {answer}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

const ITEMS_SCHEMA: &str = r#"{"type":"record","name":"Items","namespace":"com.amazonaws.personalize.schema","fields":[{"name":"ITEM_ID","type":"string"},{"name":"GENRES","type":["string","null"],"categorical":true},{"name":"YEAR","type":["int","null"]}],"version":"1.0"}"#;

/// Creates, through the Personalize SDK (`personalize_testkit::personalize::deploy`), the
/// ML-100K dataset group, datasets, imports (CSV files under `<data_dir>/s3/`), an
/// aws-user-personalization solution, a version, a campaign and an event tracker, waiting for
/// each to turn ACTIVE. The server must use `data_dir`.
pub async fn deploy(http: &Http, data_dir: &Path, ml: &Ml100k) -> anyhow::Result<Deployed> {
    let data = Data {
        interactions_csv: &ml.interactions_csv,
        items: Some((ITEMS_SCHEMA, &ml.items_csv)),
    };
    Ok(personalize_testkit::personalize::deploy(&http.base, data_dir, "ml-100k", data).await?)
}

/// The GetRecommendations body for `user`.
pub fn recommendations_body(campaign: &str, user: &str) -> Bytes {
    Bytes::from(json!({"campaignArn": campaign, "userId": user, "numResults": 10}).to_string())
}

/// Checks that a GetRecommendations answer lists `n` items.
pub fn check_recommendations(body: &[u8], n: usize) -> anyhow::Result<()> {
    let answer: Value = serde_json::from_slice(body)?;
    let got = answer
        .get("itemList")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if got != n {
        bail!("expected {n} recommendations, got {got}: {answer}");
    }
    Ok(())
}

/// Outcome of one closed-loop load run.
pub struct LoadResult {
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Latency of every successful request in microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl LoadResult {
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile latency in milliseconds (nearest rank).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies_us, q)
    }

    /// Pools several runs (throughput = all requests / all time).
    pub fn pool(runs: &[&LoadResult]) -> LoadResult {
        let mut latencies_us: Vec<u32> = runs
            .iter()
            .flat_map(|r| r.latencies_us.iter().copied())
            .collect();
        latencies_us.sort_unstable();
        LoadResult {
            ok: runs.iter().map(|r| r.ok).sum(),
            errors: runs.iter().map(|r| r.errors).sum(),
            first_error: runs.iter().find_map(|r| r.first_error.clone()),
            elapsed: runs.iter().map(|r| r.elapsed).sum(),
            latencies_us,
        }
    }
}

/// Nearest-rank quantile of sorted microsecond samples, in milliseconds.
pub fn quantile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1e3
}

/// Sends `requests` POSTs to `path` over `concurrency` keep-alive connections (closed loop: each
/// worker waits for its answer before sending the next), cycling through `bodies`; stops early at
/// `time_limit`. `check` validates each 2xx body.
pub async fn load(
    http: &Http,
    path: &str,
    bodies: Arc<Vec<Bytes>>,
    concurrency: usize,
    requests: u64,
    time_limit: Duration,
    check: fn(&[u8]) -> anyhow::Result<()>,
) -> LoadResult {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let http = http.clone();
        let path = path.to_string();
        let bodies = Arc::clone(&bodies);
        let next = Arc::clone(&next);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests || started.elapsed() > time_limit {
                    break;
                }
                let body = bodies[(n % bodies.len() as u64) as usize].clone();
                let sent = Instant::now();
                let outcome = http.rest(&path, body).await.and_then(|b| check(&b));
                let took = sent.elapsed();
                match outcome {
                    Ok(()) => latencies.push(took.as_micros().min(u128::from(u32::MAX)) as u32),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (latencies, errors, first_error)
        }));
    }
    let mut latencies_us = Vec::with_capacity(requests as usize);
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        match worker.await {
            Ok((l, e, f)) => {
                latencies_us.extend(l);
                errors += e;
                if first_error.is_none() {
                    first_error = f;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("worker: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    LoadResult {
        ok: latencies_us.len() as u64,
        errors,
        first_error,
        elapsed,
        latencies_us,
    }
}
