//! `make bench-local` (part 1): GetRecommendations over HTTP on a MovieLens 100K
//! aws-user-personalization campaign, against a trivial axum handler measured back to back in the
//! same run on the same server stack (axum, one multi-thread tokio runtime with as many workers
//! as `#[tokio::main]` gives the binary). Figures are ratios to that baseline because the machine
//! is shared; absolute numbers are printed next to them for context.
//!
//! Setup goes through the Personalize SDK (`personalize_testkit::personalize::deploy`): dataset
//! group, schemas, datasets, CSV imports (converted from recbole's ml-100k files like
//! `hack/data/movielens-csv.py`), solution, version, campaign, event tracker. The load
//! generator runs in its own tokio runtime in the same process, closed loop: `--concurrency`
//! keep-alive connections, each sending its next request when the previous answer is read, for
//! `--requests` requests per run (or `--max-seconds`, whichever comes first). Both handlers get
//! the same request bodies (`{campaignArn, userId, numResults: 10}`, cycling through all users)
//! and answer a 10-item JSON list that the client parses and checks, so client work is equal.
//!
//! Usage: bench_recommendations --data DIR [--requests 20000] [--concurrency 1,16]
//!        [--rounds 2] [--warmup 1000] [--max-seconds 60] [--server-threads N]
//!        [--client-threads N]
//!
//! Prints a table, a one-line summary and a JSON line (last line).

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use common::{Args, Http, LoadResult, check_recommendations, deploy, load, load_ml100k};
use personalize_local::{Config, Running};
use personalize_testkit::proc_stat;
use serde_json::json;

/// Target: GetRecommendations throughput at least this fraction of the trivial handler's.
const TARGET_RATIO: f64 = 0.5;
/// Target: GetRecommendations p99 at most this many milliseconds.
const TARGET_P99_MS: f64 = 5.0;

/// The trivial handler's answer: the shape and size of a real 10-item answer.
fn trivial_answer() -> String {
    let items: Vec<_> = (0..10)
        .map(|i| json!({"itemId": format!("{}", 100 + i), "score": 0.123_456_789 / f64::from(i + 1)}))
        .collect();
    json!({"itemList": items, "recommendationId": "RID-00000000-0000-0000-0000-000000000"})
        .to_string()
}

fn trivial_router() -> axum::Router {
    let answer: &'static str = Box::leak(trivial_answer().into_boxed_str());
    axum::Router::new().route(
        "/recommendations",
        post(move |body: Bytes| async move {
            let _ = body.len();
            ([(header::CONTENT_TYPE, "application/json")], answer).into_response()
        }),
    )
}

fn check10(body: &[u8]) -> anyhow::Result<()> {
    check_recommendations(body, 10)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Run {
    concurrency: usize,
    round: usize,
    handler: &'static str,
    result: LoadResult,
    /// CPU time of the server runtime's threads during the run.
    server_cpu: Duration,
}

/// `cpu` spread over `requests`, in microseconds.
fn per_request_us(cpu: Duration, requests: u64) -> f64 {
    cpu.as_secs_f64() * 1e6 / requests.max(1) as f64
}

fn row(concurrency: usize, round: &str, handler: &str, r: &LoadResult, server_cpu_us: f64) {
    println!(
        "{concurrency:>5} {round:>5} {handler:<20} {:>7} {:>6} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>9.1}",
        r.ok,
        r.errors,
        r.throughput(),
        r.quantile_ms(0.5),
        r.quantile_ms(0.99),
        r.quantile_ms(1.0),
        server_cpu_us,
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::from_env();
    let data = args.data_dir()?;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let requests: u64 = args.parse("requests", 20_000)?;
    let rounds: usize = args.parse("rounds", 2)?;
    let warmup: u64 = args.parse("warmup", 1_000)?;
    let time_limit = Duration::from_secs(args.parse("max-seconds", 60)?);
    let server_threads: usize = args.parse("server-threads", cores)?;
    let client_threads: usize = args.parse("client-threads", cores)?;
    let concurrencies: Vec<usize> = args
        .get("concurrency")
        .unwrap_or_else(|| "1,16".into())
        .split(',')
        .map(|c| {
            c.trim()
                .parse()
                .context("--concurrency: comma-separated counts")
        })
        .collect::<anyhow::Result<_>>()?;
    if concurrencies.is_empty() || concurrencies.contains(&0) || rounds == 0 || requests == 0 {
        bail!("--concurrency, --rounds and --requests must be positive");
    }

    let ml = load_ml100k(&data)?;
    let dir = common::temp_dir("bench-recommendations")?;
    // The server stack: one multi-thread runtime like the binary's #[tokio::main].
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_threads)
        .thread_name("server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads)
        .thread_name("client")
        .enable_all()
        .build()?;
    let server = server_rt.block_on(Running::start(Config::for_tests(Some(dir.clone()))))?;
    let trivial_addr = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, trivial_router()).await });
        anyhow::Ok(addr)
    })?;
    let personalize = Http::new(&server.url());
    let trivial = Http::new(&format!("http://{trivial_addr}"));

    println!(
        "ml-100k: {} interactions, {} users, {} items; server {} (runtime {server_threads} \
         workers), trivial http://{trivial_addr}, client runtime {client_threads} workers, \
         {cores} cores, load {}",
        ml.interactions,
        ml.users.len(),
        ml.items.len(),
        server.url(),
        loadavg()
    );
    let setup_started = Instant::now();
    let deployed = client_rt.block_on(deploy(&personalize, &dir, &ml))?;
    println!(
        "deployed in {:.1}s (training {:.1}s): {}",
        setup_started.elapsed().as_secs_f64(),
        deployed.training.as_secs_f64(),
        deployed.campaign
    );
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        ml.users
            .iter()
            .map(|u| common::recommendations_body(&deployed.campaign, u))
            .collect(),
    );
    client_rt.block_on(async {
        let answer = personalize
            .rest("/recommendations", bodies[0].clone())
            .await?;
        check10(&answer).context("first GetRecommendations")
    })?;

    let mut runs: Vec<Run> = Vec::new();
    let load_started = Instant::now();
    println!();
    println!(
        "{:>5} {:>5} {:<20} {:>7} {:>6} {:>9} {:>8} {:>8} {:>8} {:>9}",
        "conns",
        "round",
        "handler",
        "ok",
        "errors",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "srv µs/rq"
    );
    for &concurrency in &concurrencies {
        let run = |http: &Http, n: u64| {
            client_rt.block_on(load(
                http,
                "/recommendations",
                Arc::clone(&bodies),
                concurrency,
                n,
                time_limit,
                check10,
            ))
        };
        // Warm both (connections, caches, the model), not reported.
        run(&trivial, warmup);
        run(&personalize, warmup);
        for round in 0..rounds {
            // ABBA order cancels drift in the machine's background load.
            let order: [(&'static str, &Http); 2] = if round.is_multiple_of(2) {
                [("trivial", &trivial), ("GetRecommendations", &personalize)]
            } else {
                [("GetRecommendations", &personalize), ("trivial", &trivial)]
            };
            for (handler, http) in order {
                let cpu_before = proc_stat::threads_cpu("server");
                let result = run(http, requests);
                let server_cpu = proc_stat::threads_cpu("server").saturating_sub(cpu_before);
                row(
                    concurrency,
                    &(round + 1).to_string(),
                    handler,
                    &result,
                    per_request_us(server_cpu, result.ok),
                );
                if let Some(e) = &result.first_error {
                    println!("      first error: {e}");
                }
                runs.push(Run {
                    concurrency,
                    round,
                    handler,
                    result,
                    server_cpu,
                });
            }
        }
    }
    let load_secs = load_started.elapsed().as_secs_f64();

    // Pooled per concurrency: throughput = all requests / all time, quantiles over all samples.
    let mut per_concurrency = Vec::new();
    let mut all_pass = true;
    let mut errors = 0;
    println!();
    for &concurrency in &concurrencies {
        let of = |handler: &str| {
            runs.iter()
                .filter(|r| r.concurrency == concurrency && r.handler == handler)
                .collect::<Vec<_>>()
        };
        let pooled = |handler: &str| {
            LoadResult::pool(&of(handler).iter().map(|r| &r.result).collect::<Vec<_>>())
        };
        // Server CPU per request over all rounds.
        let cpu = |handler: &str| {
            let runs = of(handler);
            per_request_us(
                runs.iter().map(|r| r.server_cpu).sum(),
                runs.iter().map(|r| r.result.ok).sum(),
            )
        };
        let base = pooled("trivial");
        let recs = pooled("GetRecommendations");
        let (base_cpu, recs_cpu) = (cpu("trivial"), cpu("GetRecommendations"));
        row(concurrency, "all", "trivial", &base, base_cpu);
        row(concurrency, "all", "GetRecommendations", &recs, recs_cpu);
        errors += base.errors + recs.errors;
        let ratio = recs.throughput() / base.throughput();
        let round_ratios: Vec<f64> = (0..rounds)
            .map(|round| {
                let of = |h: &str| {
                    runs.iter()
                        .find(|r| {
                            r.concurrency == concurrency && r.round == round && r.handler == h
                        })
                        .map_or(f64::NAN, |r| r.result.throughput())
                };
                of("GetRecommendations") / of("trivial")
            })
            .collect();
        let p99 = recs.quantile_ms(0.99);
        let pass_ratio = ratio >= TARGET_RATIO;
        let pass_p99 = p99 <= TARGET_P99_MS;
        all_pass &= pass_ratio && pass_p99;
        per_concurrency.push(json!({
            "concurrency": concurrency,
            "throughput_ratio": ratio,
            "round_throughput_ratios": round_ratios,
            "p99_ratio": p99 / base.quantile_ms(0.99),
            "p50_ratio": recs.quantile_ms(0.5) / base.quantile_ms(0.5),
            "server_cpu_us_per_request": {"recommendations": recs_cpu, "trivial": base_cpu},
            "recommendations": {"req_per_s": recs.throughput(), "p50_ms": recs.quantile_ms(0.5),
                                "p99_ms": p99, "max_ms": recs.quantile_ms(1.0),
                                "ok": recs.ok, "errors": recs.errors},
            "trivial": {"req_per_s": base.throughput(), "p50_ms": base.quantile_ms(0.5),
                        "p99_ms": base.quantile_ms(0.99), "max_ms": base.quantile_ms(1.0),
                        "ok": base.ok, "errors": base.errors},
            "pass_throughput_ratio": pass_ratio,
            "pass_p99": pass_p99,
        }));
    }
    println!();
    for c in &per_concurrency {
        let f = |p: &str| c.pointer(p).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        let pass = |p: &str| {
            if c.pointer(p).and_then(|v| v.as_bool()) == Some(true) {
                "PASS"
            } else {
                "FAIL"
            }
        };
        println!(
            "summary: {} connections: GetRecommendations throughput {:.2}x the trivial handler's \
             ({:.0} vs {:.0} req/s; rounds {}) [target >= {TARGET_RATIO}: {}], p99 {:.2} ms vs \
             {:.2} ms ({:.1}x) [target <= {TARGET_P99_MS} ms: {}]; server CPU {:.0} vs {:.0} µs per \
             request",
            c["concurrency"],
            f("/throughput_ratio"),
            f("/recommendations/req_per_s"),
            f("/trivial/req_per_s"),
            c["round_throughput_ratios"]
                .as_array()
                .map(|a| a
                    .iter()
                    .map(|r| format!("{:.2}", r.as_f64().unwrap_or(f64::NAN)))
                    .collect::<Vec<_>>()
                    .join(" "))
                .unwrap_or_default(),
            pass("/pass_throughput_ratio"),
            f("/recommendations/p99_ms"),
            f("/trivial/p99_ms"),
            f("/p99_ratio"),
            pass("/pass_p99"),
            f("/server_cpu_us_per_request/recommendations"),
            f("/server_cpu_us_per_request/trivial"),
        );
    }
    println!(
        "{}",
        json!({
            "bench": "local-recommendations",
            "dataset": "ml-100k",
            "recipe": "aws-user-personalization",
            "requests_per_run": requests,
            "rounds": rounds,
            "warmup": warmup,
            "server_threads": server_threads,
            "client_threads": client_threads,
            "cores": cores,
            "loadavg_end": loadavg(),
            "load_seconds": load_secs,
            "training_seconds": deployed.training.as_secs_f64(),
            "targets": {"throughput_ratio_min": TARGET_RATIO, "p99_ms_max": TARGET_P99_MS},
            "all_pass": all_pass,
            "results": per_concurrency,
        })
    );

    // Close the client's pooled connections first so the graceful stop does not wait on them.
    drop((personalize, trivial, bodies));
    drop(client_rt);
    server_rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), server.stop())
            .await
            .context("the server did not stop within 10s")?
    })?;
    drop(server_rt);
    let _ = std::fs::remove_dir_all(&dir);
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    Ok(())
}
