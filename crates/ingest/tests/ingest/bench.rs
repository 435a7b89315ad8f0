//! Throughput benchmark (a figure, not a test): events per second from a moto stream through
//! the sidecar into a recording PutEvents endpoint, as a ratio to draining the same stream with
//! GetRecords alone, back to back in the same run. Run with `make bench-ingest` or
//! `cargo test -p personalize-ingest --test ingest -- --ignored --nocapture bench_`.

use std::time::{Duration, Instant};

use personalize_ingest::tracking::TrackingId;
use serde_json::json;

use super::support::*;

/// CPU seconds (user + system) used so far by process `pid` ("self" for this one); None off
/// Linux.
fn cpu_secs(pid: &str) -> Option<f64> {
    personalize_testkit::proc_stat::cpu(format!("/proc/{pid}/stat")).map(|c| c.as_secs_f64())
}

async fn drain_with_get_records(
    k: &aws_sdk_kinesis::Client,
    stream: &str,
    expected: usize,
) -> usize {
    let shards = k
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .expect("ListShards");
    let drains = shards.shards().iter().map(|s| {
        let shard_id = s.shard_id().to_owned();
        async move {
            let mut it = trim_horizon(k, stream, &shard_id).await;
            let mut n = 0;
            loop {
                let out = k
                    .get_records()
                    .shard_iterator(&it)
                    .limit(1000)
                    .send()
                    .await
                    .expect("GetRecords");
                n += out.records().len();
                if out.records().is_empty() {
                    return n;
                }
                match out.next_shard_iterator() {
                    Some(next) => it = next.to_owned(),
                    None => return n,
                }
            }
        }
    });
    let total: usize = futures::future::join_all(drains).await.into_iter().sum();
    assert_eq!(total, expected);
    total
}

/// CPU seconds used by this process and by moto since `since`.
#[derive(Clone, Copy)]
struct Cpu {
    test_process: Option<f64>,
    moto: Option<f64>,
}

impl Cpu {
    fn now(moto_pid: &str) -> Cpu {
        Cpu {
            test_process: cpu_secs("self"),
            moto: cpu_secs(moto_pid),
        }
    }

    fn since(self, start: Cpu) -> serde_json::Value {
        let d = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| (a - b).max(0.0));
        json!({"test_process": d(self.test_process, start.test_process), "moto": d(self.moto, start.moto)})
    }
}

/// One sidecar run over the whole stream, from a fresh checkpoint file into a fresh fake:
/// seconds until every event arrived, PutEvents calls, and CPU used.
async fn run_sidecar(
    moto: &personalize_testkit::Moto,
    stream: &str,
    events: usize,
    moto_pid: &str,
) -> (f64, usize, serde_json::Value) {
    let fake = FakeEvents::start().await;
    let dir = temp_dir("bench");
    let cpu0 = Cpu::now(moto_pid);
    let start = Instant::now();
    let sidecar = start_sidecar_with_rate(
        moto,
        stream,
        &fake.url,
        TrackingId::literal("bench"),
        &dir,
        None,
        |s| {
            // moto has no per-shard read limit, and the GetRecords-only drain does not pace itself.
            s.min_get_records_interval = Duration::ZERO;
            let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
            if let Some(limit) = env("INGEST_BENCH_BATCH_LIMIT") {
                s.batch_limit = limit as i32;
            }
            if let Some(n) = env("INGEST_BENCH_WINDOW_RECORDS") {
                s.window_records = n;
            }
            if let Some(n) = env("INGEST_BENCH_READ_AHEAD") {
                s.read_ahead = n;
            }
        },
        0.0,
        None,
    )
    .await;
    // Without crashes there are no duplicates, so the count is the progress; poll it finely.
    let deadline = Instant::now() + Duration::from_secs(300);
    while fake.count() < events {
        assert!(
            Instant::now() < deadline,
            "sidecar did not deliver {events} events in 300 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = Cpu::now(moto_pid).since(cpu0);
    let calls = *fake.state.calls.lock().expect("lock");
    sidecar.stop().await;
    assert_eq!(
        fake.distinct_ids().0.len(),
        events,
        "every event exactly once"
    );
    let _ = std::fs::remove_dir_all(&dir);
    (secs, calls, cpu)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// `INGEST_BENCH_EVENTS` (20,000) events from 400 users on 2 shards; `INGEST_BENCH_REPS` (5)
/// back-to-back pairs of (GetRecords-only drain, sidecar run) over the same stream, alternating
/// which goes first; the figure is the median of the per-pair ratios.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --ignored"]
async fn bench_throughput() {
    let events = env_or("INGEST_BENCH_EVENTS", 20_000);
    let reps = env_or("INGEST_BENCH_REPS", 5).max(1);
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("bench");
    create_stream(&k, &stream, 2).await;
    let records: Vec<(String, Vec<u8>)> = (0..events)
        .map(|n| {
            let user = format!("u{}", n % 400);
            let record = seed_record(&user, &format!("i{n}"), 1_700_000_000 + n as i64);
            (user, record)
        })
        .collect();
    put_records(&k, &stream, &records).await;
    let moto_pid = std::fs::read_to_string(moto.state_dir().join("moto.pid"))
        .map(|p| p.trim().to_owned())
        .unwrap_or_default();

    let mut runs = Vec::new();
    let mut ratios = Vec::new();
    for rep in 0..reps {
        let drain = || async {
            let cpu0 = Cpu::now(&moto_pid);
            let start = Instant::now();
            drain_with_get_records(&k, &stream, events).await;
            (
                start.elapsed().as_secs_f64(),
                Cpu::now(&moto_pid).since(cpu0),
            )
        };
        let ((ceiling, drain_cpu), (sidecar_s, calls, sidecar_cpu)) = if rep % 2 == 0 {
            let d = drain().await;
            (d, run_sidecar(moto, &stream, events, &moto_pid).await)
        } else {
            let r = run_sidecar(moto, &stream, events, &moto_pid).await;
            (drain().await, r)
        };
        let ratio = ceiling / sidecar_s;
        ratios.push(ratio);
        let run = json!({"get_records_only_s": ceiling, "sidecar_s": sidecar_s, "ratio": ratio,
                         "put_events_calls": calls,
                         "cpu_s": {"get_records_only": drain_cpu, "sidecar": sidecar_cpu}});
        eprintln!("rep {rep}: {run}");
        runs.push(run);
    }
    let ratio = median(ratios.clone());
    let get_records_only_s = median(
        runs.iter()
            .filter_map(|r| r["get_records_only_s"].as_f64())
            .collect(),
    );
    let sidecar_s = median(
        runs.iter()
            .filter_map(|r| r["sidecar_s"].as_f64())
            .collect(),
    );
    println!(
        "{}",
        json!({"bench": "ingest_throughput", "events": events, "shards": 2, "users": 400,
               "reps": reps, "ratio_median": ratio, "ratios": ratios,
               "get_records_only_per_s_median": events as f64 / get_records_only_s,
               "sidecar_per_s_median": events as f64 / sidecar_s, "runs": runs})
    );
    let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    println!(
        "throughput: sidecar {:.0} events/s vs GetRecords-only {:.0} records/s (medians): ratio {:.2} (median of {}: {}; target >= 0.8), {} PutEvents calls per run",
        events as f64 / sidecar_s,
        events as f64 / get_records_only_s,
        ratio,
        reps,
        shown.join(" "),
        runs.last()
            .map(|r| r["put_events_calls"].clone())
            .unwrap_or_default()
    );
}
