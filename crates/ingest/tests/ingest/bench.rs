//! Throughput benchmark (a figure, not a test): events per second from a moto stream through
//! the sidecar into a recording PutEvents endpoint, as a ratio to draining the same stream with
//! GetRecords alone, back to back in the same run. Run with `make bench-ingest` or
//! `cargo test -p personalize-ingest --test ingest -- --ignored --nocapture bench_`.

use std::time::{Duration, Instant};

use aws_sdk_kinesis::types::ShardIteratorType;
use personalize_ingest::tracking::TrackingId;
use serde_json::json;

use super::support::*;

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
            let mut it = k
                .get_shard_iterator()
                .stream_name(stream)
                .shard_id(&shard_id)
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .expect("GetShardIterator")
                .shard_iterator
                .expect("iterator");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with --ignored"]
async fn bench_throughput() {
    let events: usize = std::env::var("INGEST_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
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

    let start = Instant::now();
    drain_with_get_records(&k, &stream, events).await;
    let ceiling = start.elapsed().as_secs_f64();

    let fake = FakeEvents::start().await;
    let dir = temp_dir("bench");
    let start = Instant::now();
    let sidecar = start_sidecar_with_rate(
        moto,
        &stream,
        &fake.url,
        TrackingId::literal("bench"),
        &dir,
        None,
        |s| {
            // moto has no per-shard read limit, and the GetRecords-only drain does not pace itself.
            s.min_get_records_interval = Duration::ZERO;
            if let Some(limit) = std::env::var("INGEST_BENCH_BATCH_LIMIT")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                s.batch_limit = limit;
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
    let sidecar_secs = start.elapsed().as_secs_f64();
    let calls = *fake.state.calls.lock().expect("lock");
    sidecar.stop().await;
    assert_eq!(fake.distinct_ids().0.len(), events);

    let ratio = ceiling / sidecar_secs;
    println!(
        "{}",
        json!({"bench": "ingest_throughput", "events": events, "shards": 2,
               "get_records_only_s": ceiling, "sidecar_s": sidecar_secs,
               "get_records_only_per_s": events as f64 / ceiling, "sidecar_per_s": events as f64 / sidecar_secs,
               "put_events_calls": calls, "ratio": ratio})
    );
    println!(
        "throughput: sidecar {:.0} events/s vs GetRecords-only {:.0} records/s: ratio {:.2} (target >= 0.8), {} PutEvents calls",
        events as f64 / sidecar_secs,
        events as f64 / ceiling,
        ratio,
        calls
    );
}
