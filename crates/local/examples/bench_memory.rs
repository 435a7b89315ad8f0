//! `make bench-local` (part 2): resident memory of the `personalize-local` binary with a
//! MovieLens 100K aws-user-personalization model and 1M stored events, and its restart time with
//! those events, next to two baselines measured back to back in the same run: the same binary on
//! the same deployment without events ("model only"), and on an empty data dir.
//!
//! The built binary runs as a child process (`--listen 127.0.0.1:PORT --data-dir TMP
//! --transition-ms 0`, fsync on); everything goes through HTTP: the ML-100K deployment
//! (dataset group .. campaign, event tracker, through the Personalize SDK), then `--events`
//! events through PutEvents (raw HTTP), 10 per call, over `--concurrency` connections. Memory is VmRSS (and the VmHWM peak) from
//! `/proc/<pid>/status` after GetRecommendations calls (model loaded). Restart: SIGKILL, spawn
//! on the same data dir, time until `GET /health` answers 200; then the first GetRecommendations
//! (model load from disk) and VmRSS again. The three data dirs are restarted `--restarts` times
//! each, in an order rotated every round.
//!
//! Usage: bench_memory --data DIR [--bin target/release/personalize-local] [--events 1000000]
//!        [--concurrency 16] [--restarts 3] [--max-seconds 900]
//!
//! Prints a table, a one-line summary and a JSON line (last line).

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use common::{Args, Http, check_recommendations, deploy, load_ml100k, recommendations_body};
use hyper::body::Bytes;
use serde_json::{Value, json};

/// Target: resident memory with the model and the events loaded.
const TARGET_RSS_MB: f64 = 200.0;
/// The three data dirs restarted: model + events, model only, empty.
const EVENTS: &str = "model+events";
const MODEL: &str = "model only";
const EMPTY: &str = "empty";
/// Longest wait for a (re)started server to answer /health.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// The server child process, SIGKILLed when dropped (also on an error path).
struct Server {
    child: Child,
    http: Http,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL and reap.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// Spawns the binary on `dir` and waits until /health answers 200; returns the server and the
/// time from spawn to that answer.
async fn start(bin: &Path, dir: &Path) -> anyhow::Result<(Server, Duration, Value)> {
    let port = free_port()?;
    let started = Instant::now();
    let child = Command::new(bin)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--transition-ms", "0"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))?;
    let mut server = Server {
        child,
        http: Http::new(&format!("http://127.0.0.1:{port}")),
    };
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!("personalize-local exited during start: {status}");
        }
        if let Ok(health) = server.http.health().await {
            return Ok((server, started.elapsed(), health));
        }
        if started.elapsed() > START_TIMEOUT {
            bail!("/health did not answer within {START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// (VmRSS, VmHWM) of `pid` in MB.
fn memory_mb(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in /proc/{pid}/status"))?;
        let kb: f64 = line
            .trim_start_matches(name)
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("parsing {line:?}"))?;
        Ok(kb / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Total size of the files below `dir` in MB.
fn dir_mb(dir: &Path) -> f64 {
    fn walk(dir: &Path, depth: usize) -> u64 {
        if depth > 16 {
            return 0;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => walk(&e.path(), depth + 1),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    }
    walk(dir, 0) as f64 / (1024.0 * 1024.0)
}

fn live_events(health: &Value) -> u64 {
    health
        .get("liveEvents")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// One GetRecommendations (10 results); returns its latency.
async fn recommend(http: &Http, campaign: &str, user: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let answer = http
        .rest("/recommendations", recommendations_body(campaign, user))
        .await?;
    let took = started.elapsed();
    check_recommendations(&answer, 10)?;
    Ok(took)
}

/// PutEvents: `calls` calls of 10 "watch" events over `concurrency` connections (bounded by
/// `time_limit`); returns (calls acknowledged, failures, first failure, elapsed).
async fn put_events(
    http: &Http,
    tracking_id: &str,
    users: Arc<Vec<String>>,
    items: Arc<Vec<String>>,
    calls: u64,
    concurrency: usize,
    time_limit: Duration,
) -> (u64, u64, Option<String>, Duration) {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let http = http.clone();
        let tracking_id = tracking_id.to_string();
        let (users, items, next) = (Arc::clone(&users), Arc::clone(&items), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut first) = (0u64, 0u64, None);
            let mut rng = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15_u64 ^ worker as u64);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls || started.elapsed() > time_limit {
                    break;
                }
                let user = &users[(n as usize * 7919) % users.len()];
                let events: Vec<Value> = (0..10u64)
                    .map(|k| {
                        json!({"eventType": "watch",
                               "itemId": items[rng.usize(..items.len())],
                               "sentAt": 1_800_000_000 + n * 10 + k})
                    })
                    .collect();
                let body = json!({"trackingId": tracking_id, "userId": user,
                                  "sessionId": format!("bench-{user}"), "eventList": events});
                match http.rest("/events", Bytes::from(body.to_string())).await {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        failed += 1;
                        first.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (ok, failed, first)
        }));
    }
    let (mut ok, mut failed, mut first) = (0, 0, None);
    for worker in workers {
        match worker.await {
            Ok((o, f, e)) => {
                ok += o;
                failed += f;
                if first.is_none() {
                    first = e;
                }
            }
            Err(e) => {
                failed += 1;
                first.get_or_insert_with(|| format!("worker: {e}"));
            }
        }
    }
    (ok, failed, first, started.elapsed())
}

fn default_bin() -> anyhow::Result<PathBuf> {
    // target/<profile>/examples/bench_memory -> target/<profile>/personalize-local
    let exe = std::env::current_exe()?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .context("locating the target directory")?;
    Ok(profile_dir.join("personalize-local"))
}

struct Restart {
    round: usize,
    kind: &'static str,
    to_health: Duration,
    rss_mb: f64,
    first_recommendation: Option<Duration>,
    rss_after_recommendation_mb: Option<f64>,
    live_events: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if !v.len().is_multiple_of(2) {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::from_env();
    let data = args.data_dir()?;
    let bin = match args.get("bin") {
        Some(b) => PathBuf::from(b),
        None => default_bin()?,
    };
    if !bin.is_file() {
        bail!(
            "{} not found: build it first (cargo build --release -p personalize-local --bin \
             personalize-local) or pass --bin",
            bin.display()
        );
    }
    let events: u64 = args.parse("events", 1_000_000)?;
    let concurrency: usize = args.parse("concurrency", 16)?;
    let restarts: usize = args.parse("restarts", 3)?;
    let time_limit = Duration::from_secs(args.parse("max-seconds", 900)?);
    if concurrency == 0 || restarts == 0 || !events.is_multiple_of(10) {
        bail!("--concurrency and --restarts must be positive, --events a multiple of 10");
    }
    let ml = load_ml100k(&data)?;
    let users = Arc::new(ml.users.clone());
    let items = Arc::new(ml.items.clone());

    // Baseline data dirs: empty (initialised once: the first start writes an empty journal), and
    // the same ML-100K deployment without events (the model-only baseline).
    let empty_dir = common::temp_dir("bench-memory-empty")?;
    let (mut s, first_empty_start, _) = start(&bin, &empty_dir).await?;
    let (rss_empty, _) = memory_mb(s.pid())?;
    s.kill();
    let model_dir = common::temp_dir("bench-memory-model")?;
    let (mut s, _, _) = start(&bin, &model_dir).await?;
    let model_only = deploy(&s.http, &model_dir, &ml).await?;
    recommend(&s.http, &model_only.campaign, &ml.users[0]).await?;
    let (rss_model, hwm_model) = memory_mb(s.pid())?;
    s.kill();
    println!(
        "model-only baseline (training {:.1}s): VmRSS {rss_model:.1} MB with the model, no \
         events; empty server VmRSS {rss_empty:.1} MB",
        model_only.training.as_secs_f64()
    );

    let dir = common::temp_dir("bench-memory")?;
    let (mut server, _, _) = start(&bin, &dir).await?;
    println!(
        "binary {} (pid {}), data dir {}, ml-100k: {} interactions, {} users, {} items",
        bin.display(),
        server.pid(),
        dir.display(),
        ml.interactions,
        ml.users.len(),
        ml.items.len()
    );
    let deployed = deploy(&server.http, &dir, &ml).await?;
    recommend(&server.http, &deployed.campaign, &ml.users[0]).await?;
    println!(
        "deployed (training {:.1}s)",
        deployed.training.as_secs_f64()
    );

    let calls = events / 10;
    let (ok, failed, first_error, load_time) = put_events(
        &server.http,
        &deployed.tracking_id,
        Arc::clone(&users),
        Arc::clone(&items),
        calls,
        concurrency,
        time_limit,
    )
    .await;
    if let Some(e) = &first_error {
        println!("first PutEvents error: {e}");
    }
    let stored = live_events(&server.http.health().await?);
    println!(
        "PutEvents: {ok} calls acknowledged ({failed} failed), {stored} live events stored, \
         {:.1}s (informational: shares the machine)",
        load_time.as_secs_f64()
    );
    for user in ml.users.iter().take(20) {
        recommend(&server.http, &deployed.campaign, user).await?;
    }
    let (rss_loaded, hwm_loaded) = memory_mb(server.pid())?;
    let data_mb = dir_mb(&dir);
    let model_data_mb = dir_mb(&model_dir);
    println!(
        "with the model and {stored} events: VmRSS {rss_loaded:.1} MB (peak VmHWM \
         {hwm_loaded:.1} MB), data dir {data_mb:.1} MB (model-only {model_data_mb:.1} MB)"
    );

    // Restarts, rotating the order of the three data dirs each round.
    let mut results: Vec<Restart> = Vec::new();
    server.kill();
    let kinds = [EVENTS, MODEL, EMPTY];
    for round in 0..restarts {
        for k in 0..kinds.len() {
            let kind = kinds[(k + round) % kinds.len()];
            let (data_dir, campaign) = match kind {
                EVENTS => (&dir, Some(&deployed.campaign)),
                MODEL => (&model_dir, Some(&model_only.campaign)),
                _ => (&empty_dir, None),
            };
            let (mut s, to_health, health) = start(&bin, data_dir).await?;
            let (rss_mb, _) = memory_mb(s.pid())?;
            let (first_recommendation, rss_after_recommendation_mb) = match campaign {
                Some(campaign) => {
                    let took = recommend(&s.http, campaign, &ml.users[1]).await?;
                    (Some(took), Some(memory_mb(s.pid())?.0))
                }
                None => (None, None),
            };
            s.kill();
            results.push(Restart {
                round,
                kind,
                to_health,
                rss_mb,
                first_recommendation,
                rss_after_recommendation_mb,
                live_events: live_events(&health),
            });
        }
    }

    println!();
    println!(
        "{:>5} {:<12} {:>12} {:>10} {:>12} {:>14} {:>11}",
        "round",
        "data dir",
        "to /health",
        "VmRSS MB",
        "first rec ms",
        "VmRSS+rec MB",
        "live events"
    );
    for r in &results {
        println!(
            "{:>5} {:<12} {:>9.1} ms {:>10.1} {:>12} {:>14} {:>11}",
            r.round + 1,
            r.kind,
            r.to_health.as_secs_f64() * 1e3,
            r.rss_mb,
            r.first_recommendation
                .map_or("-".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3)),
            r.rss_after_recommendation_mb
                .map_or("-".into(), |m| format!("{m:.1}")),
            r.live_events
        );
    }
    let ms = |kind: &str| -> Vec<f64> {
        results
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.to_health.as_secs_f64() * 1e3)
            .collect()
    };
    let (full_ms, model_ms, empty_ms) = (ms(EVENTS), ms(MODEL), ms(EMPTY));
    let (full_median, model_median, empty_median) = (
        median(full_ms.clone()),
        median(model_ms.clone()),
        median(empty_ms.clone()),
    );
    let ratios =
        |base: &[f64]| -> Vec<f64> { full_ms.iter().zip(base).map(|(f, b)| f / b).collect() };
    let (ratios_model, ratios_empty) = (ratios(&model_ms), ratios(&empty_ms));
    let rss_restarted = results
        .iter()
        .filter(|r| r.kind == EVENTS)
        .filter_map(|r| r.rss_after_recommendation_mb)
        .fold(0.0, f64::max);
    let rss_restarted_model = results
        .iter()
        .filter(|r| r.kind == MODEL)
        .filter_map(|r| r.rss_after_recommendation_mb)
        .fold(0.0, f64::max);
    let rss_max = rss_loaded.max(rss_restarted);
    let events_ok = stored == events
        && results
            .iter()
            .all(|r| r.kind != EVENTS || r.live_events == events);
    let pass_rss = rss_max <= TARGET_RSS_MB;
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|r| format!("{r:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!();
    println!(
        "summary: VmRSS with the ML-100K model and {stored} events {rss_loaded:.1} MB (after \
         restart {rss_restarted:.1} MB) vs {rss_model:.1} MB model-only and {rss_empty:.1} MB \
         empty ({:.2}x model-only) [target <= {TARGET_RSS_MB} MB: {}]; restart to /health \
         {full_median:.0} ms median vs {model_median:.0} ms model-only ({:.1}x; rounds {}) and \
         {empty_median:.0} ms empty ({:.1}x; rounds {}); events intact after restarts: {}",
        rss_loaded / rss_model,
        if pass_rss { "PASS" } else { "FAIL" },
        full_median / model_median,
        fmt(&ratios_model),
        full_median / empty_median,
        fmt(&ratios_empty),
        events_ok
    );
    println!(
        "{}",
        json!({
            "bench": "local-memory-restart",
            "dataset": "ml-100k",
            "recipe": "aws-user-personalization",
            "events_target": events,
            "events_stored": stored,
            "put_events_calls_ok": ok,
            "put_events_calls_failed": failed,
            "put_events_seconds": load_time.as_secs_f64(),
            "training_seconds": deployed.training.as_secs_f64(),
            "rss_mb": {"empty": rss_empty, "model_no_events": rss_model,
                       "model_no_events_hwm": hwm_model, "model_and_events": rss_loaded,
                       "model_and_events_hwm": hwm_loaded,
                       "after_restart_events_max": rss_restarted,
                       "after_restart_model_max": rss_restarted_model},
            "rss_ratio_to_model_only": rss_loaded / rss_model,
            "rss_ratio_to_empty": rss_loaded / rss_empty,
            "data_dir_mb": {"events": data_mb, "model": model_data_mb},
            "restart_ms": {"events": full_ms, "model": model_ms, "empty": empty_ms,
                           "events_median": full_median, "model_median": model_median,
                           "empty_median": empty_median,
                           "first_empty_start": first_empty_start.as_secs_f64() * 1e3},
            "restart_ratio_to_model_median": full_median / model_median,
            "restart_ratio_to_empty_median": full_median / empty_median,
            "restart_round_ratios_to_model": ratios_model,
            "restart_round_ratios_to_empty": ratios_empty,
            "first_recommendation_after_restart_ms": results.iter()
                .filter(|r| r.kind == EVENTS)
                .filter_map(|r| r.first_recommendation.map(|d| d.as_secs_f64() * 1e3))
                .collect::<Vec<_>>(),
            "targets": {"rss_mb_max": TARGET_RSS_MB},
            "pass_rss": pass_rss,
            "events_intact": events_ok,
        })
    );
    let _ = std::fs::remove_dir_all(&model_dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty_dir);
    if failed > 0 || !events_ok {
        bail!("PutEvents failures ({failed}) or events lost (stored {stored} of {events})");
    }
    Ok(())
}
