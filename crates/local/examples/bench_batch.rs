//! `make bench-batch`: batch inference throughput (users per second) against the engine's own
//! in-process top-k rate for the same model, and peak resident memory.
//!
//! 1. MovieLens 100K, end to end: personalize-local in this process (data dir, file-backed S3),
//!    the ML-100K aws-user-personalization deployment through the SDK, an input object with all
//!    943 users, then CreateBatchInferenceJob (top 25, default exploration) timed from the call
//!    until DescribeBatchInferenceJob says ACTIVE (input read, lines answered, output written),
//!    best of `--rounds`. Baseline: `Model::recommend` for the same users on the model file the
//!    server wrote, sequentially and over rayon's pool (the job answers lines over that pool).
//! 2. A synthetic set of `--users` users (default 1M; `--items` items with power-law popularity,
//!    `--per-user` interactions each, fixed seed), trained in process: the batch job's line
//!    pipeline (`batch::answer_all` with `batch_inference::Answerer`: JSON-lines input to
//!    JSON-lines output, no S3)
//!    against `Model::recommend` for the same users over the same pool.
//!
//! Ratios, not absolute figures, are the result (the machine is shared). Peak RSS is this
//! process's VmHWM after each part. No timed assertions.
//!
//! Usage: bench_batch --data DIR [--rounds 3] [--users 1000000] [--items 2000] [--per-user 5]
//!        [--parts movielens,synthetic]

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use common::{Args, Http, deploy, load_ml100k};
use personalize_engine as engine;
use personalize_local::resources::batch;
use personalize_local::resources::batch_inference::{Answerer, LineKind};
use personalize_local::{Config, Running};
use rayon::prelude::*;
use serde_json::json;

const TOP_K: usize = 25;
/// Target: batch users per second at least this fraction of the in-process rate.
const TARGET_RATIO: f64 = 0.5;

/// VmHWM of this process in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Users per second of `Model::recommend` over `users`: (sequential, over rayon's pool), best
/// of `rounds`.
fn engine_rates(
    model: &engine::Model,
    users: &[String],
    exploration: engine::Exploration,
    rounds: usize,
) -> (f64, f64) {
    let catalog = engine::Catalog::default();
    let now = now();
    let one = |u: &String| {
        model
            .recommend(&engine::RecommendRequest {
                user_id: Some(u),
                item_id: None,
                live: &[],
                num_results: TOP_K,
                filter: None,
                catalog: &catalog,
                exploration,
                now,
            })
            .map(|l| l.len())
            .unwrap_or(0)
    };
    let sample = &users[..users.len().min(200_000)];
    let (mut sequential, mut parallel) = (0.0f64, 0.0f64);
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        let n: usize = sample.iter().map(one).sum();
        sequential = sequential.max(sample.len() as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        let m: usize = users.par_iter().map(one).sum();
        parallel = parallel.max(users.len() as f64 / started.elapsed().as_secs_f64());
        assert!(n > 0 && m > 0, "the engine recommends");
    }
    (sequential, parallel)
}

async fn movielens(args: &Args) -> anyhow::Result<serde_json::Value> {
    let rounds: usize = args.parse("rounds", 3)?;
    let ml = load_ml100k(&args.data_dir()?)?;
    let dir = common::temp_dir("bench-batch")?;
    let server = Running::start(Config::for_tests(Some(dir.clone()))).await?;
    let http = Http::new(&server.url());
    let deployed = deploy(&http, &dir, &ml).await?;
    let lines: Vec<String> = ml
        .users
        .iter()
        .map(|u| json!({ "userId": u }).to_string())
        .collect();
    let input = dir.join("s3/batch/in/users.json");
    std::fs::create_dir_all(input.parent().context("parent")?)?;
    std::fs::write(&input, lines.join("\n"))?;
    let model_file = std::fs::read_dir(dir.join("models"))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .context("the model file")?;
    let model = personalize_local::resources::serving::read_model(&model_file)?;
    // Rounds interleave the job and the baseline (the machine is shared); best of each.
    let mut best = Duration::MAX;
    let (mut sequential, mut parallel) = (0.0f64, 0.0f64);
    for round in 0..rounds {
        let (s, p) = engine_rates(&model, &ml.users, engine::Exploration::default(), 3);
        sequential = sequential.max(s);
        parallel = parallel.max(p);
        let started = Instant::now();
        let created = http
            .control(
                "CreateBatchInferenceJob",
                json!({
                    "jobName": format!("bench-{round}"),
                    "solutionVersionArn": deployed.solution_version,
                    "numResults": TOP_K,
                    "jobInput": {"s3DataSource": {"path": "s3://batch/in/users.json"}},
                    "jobOutput": {"s3DataDestination": {"path": format!("s3://batch/out/{round}/")}},
                    "roleArn": "arn:aws:iam::123456789012:role/bench",
                }),
            )
            .await?;
        let arn = created["batchInferenceJobArn"]
            .as_str()
            .context("batchInferenceJobArn")?
            .to_string();
        loop {
            let d = http
                .control(
                    "DescribeBatchInferenceJob",
                    json!({"batchInferenceJobArn": arn}),
                )
                .await?;
            match d["batchInferenceJob"]["status"].as_str() {
                Some("ACTIVE") => break,
                Some("CREATE FAILED") => bail!("batch job failed: {d}"),
                _ => tokio::time::sleep(Duration::from_millis(2)).await,
            }
        }
        best = best.min(started.elapsed());
        let out =
            std::fs::read_to_string(dir.join(format!("s3/batch/out/{round}/users.json.out")))?;
        if out.lines().count() != lines.len() {
            bail!("expected {} output lines", lines.len());
        }
    }
    let batch_rate = ml.users.len() as f64 / best.as_secs_f64();
    server.stop().await?;
    let rss = peak_rss_mb();
    println!(
        "ML-100K ({} users, top {TOP_K}): batch job {:.0} users/s (best of {rounds}: {:.1} ms end \
         to end); engine in process {:.0} users/s sequential, {:.0} users/s over {} threads; \
         ratio {:.2} (pool), {:.2} (sequential); peak RSS {rss:.0} MB",
        ml.users.len(),
        batch_rate,
        best.as_secs_f64() * 1e3,
        sequential,
        parallel,
        rayon::current_num_threads(),
        batch_rate / parallel,
        batch_rate / sequential,
    );
    Ok(json!({
        "users": ml.users.len(), "batch_users_per_s": batch_rate,
        "engine_users_per_s_sequential": sequential, "engine_users_per_s_pool": parallel,
        "ratio_pool": batch_rate / parallel, "ratio_sequential": batch_rate / sequential,
        "peak_rss_mb": rss,
    }))
}

/// Synthetic interactions: `users` users with `per_user` distinct items each, item popularity
/// power-law (Zipf-like, exponent 1), timestamps increasing; fixed seed.
fn synthetic(users: usize, items: usize, per_user: usize) -> Vec<engine::Interaction> {
    let mut rng = fastrand::Rng::with_seed(42);
    let weights: Vec<f64> = (1..=items).map(|r| 1.0 / r as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(items);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut out = Vec::with_capacity(users * per_user);
    let mut seen = Vec::with_capacity(per_user);
    for u in 0..users {
        seen.clear();
        while seen.len() < per_user {
            let x = rng.f64();
            let i = cdf.partition_point(|&c| c < x).min(items - 1);
            if !seen.contains(&i) {
                seen.push(i);
            }
        }
        for (k, &i) in seen.iter().enumerate() {
            out.push(engine::Interaction::new(
                &format!("u{u}"),
                &format!("i{i}"),
                1_700_000_000 + (u * per_user + k) as i64,
                "click",
            ));
        }
    }
    out
}

fn synthetic_part(args: &Args) -> anyhow::Result<serde_json::Value> {
    let users: usize = args.parse("users", 1_000_000)?;
    let items: usize = args.parse("items", 2000)?;
    let per_user: usize = args.parse("per-user", 5)?;
    let started = Instant::now();
    let data = engine::Dataset {
        interactions: synthetic(users, items, per_user),
        items: Vec::new(),
        users: Vec::new(),
    };
    let config = engine::TrainConfig::new(engine::Recipe::UserPersonalization);
    let model = engine::train_without_metrics(&data, &config)?;
    let trained = started.elapsed();
    drop(data);
    let ids: Vec<String> = (0..users).map(|u| format!("u{u}")).collect();
    let input: String = ids
        .iter()
        .map(|u| json!({ "userId": u }).to_string() + "\n")
        .collect();
    let catalog = engine::Catalog::default();
    let live = HashMap::new();
    let answerer = Answerer {
        model: &model,
        catalog: &catalog,
        filter: None,
        kind: LineKind::User,
        num_results: TOP_K,
        num_results_given: true,
        exploration: engine::Exploration::default(),
        now: now(),
        live: &live,
    };
    let rounds: usize = args.parse("rounds", 3)?;
    // Rounds interleave the line pipeline and the baseline (the machine is shared); best of
    // each.
    let mut best = Duration::MAX;
    let (mut sequential, mut parallel) = (0.0f64, 0.0f64);
    for _ in 0..rounds.max(1) {
        let (s, p) = engine_rates(&model, &ids, engine::Exploration::default(), 1);
        sequential = sequential.max(s);
        parallel = parallel.max(p);
        let started = Instant::now();
        let output = batch::answer_all(input.as_bytes(), |l| answerer.answer(l));
        best = best.min(started.elapsed());
        if output.iter().filter(|&&b| b == b'\n').count() != users {
            bail!("expected {users} output lines");
        }
    }
    let batch_rate = users as f64 / best.as_secs_f64();
    let (sequential, parallel) = engine_rates(&model, &ids, engine::Exploration::default(), rounds);
    let rss = peak_rss_mb();
    println!(
        "synthetic ({users} users, {items} items, {per_user} each; trained in {:.1} s, {}): batch \
         lines {:.0} users/s; engine in process {:.0} users/s sequential, {:.0} users/s over {} \
         threads; ratio {:.2} (pool), {:.2} (sequential); peak RSS {rss:.0} MB",
        trained.as_secs_f64(),
        model.algorithm(),
        batch_rate,
        sequential,
        parallel,
        rayon::current_num_threads(),
        batch_rate / parallel,
        batch_rate / sequential,
    );
    Ok(json!({
        "users": users, "batch_users_per_s": batch_rate,
        "engine_users_per_s_sequential": sequential, "engine_users_per_s_pool": parallel,
        "ratio_pool": batch_rate / parallel, "ratio_sequential": batch_rate / sequential,
        "peak_rss_mb": rss,
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::from_env();
    let parts = args
        .get("parts")
        .unwrap_or_else(|| "movielens,synthetic".into());
    if !parts.contains("movielens") {
        let synthetic =
            tokio::task::spawn_blocking(move || synthetic_part(&Args::from_env())).await??;
        println!("{}", json!({ "synthetic": synthetic }));
        return Ok(());
    }
    let ml = movielens(&args).await?;
    let synthetic =
        tokio::task::spawn_blocking(move || synthetic_part(&Args::from_env())).await??;
    let worst = ml["ratio_pool"]
        .as_f64()
        .unwrap_or(0.0)
        .min(synthetic["ratio_pool"].as_f64().unwrap_or(0.0));
    println!(
        "summary: batch/engine ratio {worst:.2} at worst (target >= {TARGET_RATIO}): {}",
        if worst >= TARGET_RATIO {
            "met"
        } else {
            "NOT met"
        }
    );
    println!("{}", json!({"movielens": ml, "synthetic": synthetic}));
    Ok(())
}
