//! 20,000 events while the sidecar (the real binary) is killed with SIGKILL 10 times: every
//! event arrives at least once, duplicates are recognisable by their eventId, and the number
//! replayed is reported. And a restart from a checkpoint with a bitmap (`<S>+<F>+<hex>`) sends
//! neither the records up to S nor those the bitmap marks, unless the first record after S is
//! not F: then it sends every record after S.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use personalize_ingest::metrics::Metrics;
use personalize_ingest::position::{Bitmap, Position};
use personalize_ingest::tracking::TrackingId;
use personalize_testkit::Moto;

use super::support::*;

const EVENTS: usize = 20_000;
const KILLS: usize = 10;

fn sidecar(
    moto: &Moto,
    stream: &str,
    events_url: &str,
    dir: &Path,
    n: usize,
) -> tokio::process::Child {
    let log = std::fs::File::create(dir.join(format!("sidecar-{n}.log"))).expect("log file");
    tokio::process::Command::new(env!("CARGO_BIN_EXE_personalize-ingest"))
        .args([
            "run",
            "--stream",
            stream,
            "--tracking-id",
            "crash-test",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--checkpoint-file")
        .arg(dir.join("checkpoints.json"))
        .arg("--dead-letter-file")
        .arg(dir.join("dead-letter.jsonl"))
        .args(["--idle-poll-ms", "50", "--shard-sync-ms", "500"])
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL_PERSONALIZE_EVENTS", events_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .expect("spawn personalize-ingest")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_ten_times_loses_nothing() {
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("crash");
    create_stream(&k, &stream, 2).await;
    let records: Vec<(String, Vec<u8>)> = (0..EVENTS)
        .map(|n| {
            let user = format!("u{}", n % 400);
            let record = seed_record(&user, &format!("i{n}"), 1_700_000_000 + n as i64);
            (user, record)
        })
        .collect();
    put_records(&k, &stream, &records).await;

    let fake = FakeEvents::start().await;
    let dir = temp_dir("crash");
    let started = std::time::Instant::now();
    // Kill mid-stream: each run is killed once it has delivered about another 1,800 distinct
    // events (plus a varying delay), so every one of the 10 kills lands while work is in flight.
    let extra_ms = [0u64, 70, 150, 20, 110, 40, 90, 130, 10, 60];
    for (n, extra) in extra_ms.iter().enumerate().take(KILLS) {
        let mut child = sidecar(moto, &stream, &fake.url, &dir, n);
        let target = (n + 1) * 1_800;
        wait_for(
            "progress before a kill",
            Duration::from_secs(60),
            || async { fake.distinct_ids().0.len() >= target },
        )
        .await;
        tokio::time::sleep(Duration::from_millis(*extra)).await;
        child.start_kill().expect("SIGKILL");
        tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .expect("killed sidecar exits")
            .expect("wait");
        let (ids, total) = fake.distinct_ids();
        eprintln!(
            "kill {}: {} distinct events, {total} deliveries so far",
            n + 1,
            ids.len()
        );
        assert!(
            ids.len() < EVENTS,
            "kill {} came after the end of the stream",
            n + 1
        );
    }
    let mut last = sidecar(moto, &stream, &fake.url, &dir, KILLS);
    wait_for(
        "every event at least once",
        Duration::from_secs(180),
        || async { fake.distinct_ids().0.len() >= EVENTS },
    )
    .await;
    // Graceful stop: SIGTERM, then it exits on its own.
    let pid = last.id().expect("pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), last.wait())
        .await
        .expect("sidecar exits on SIGTERM")
        .expect("wait");
    assert!(exit.success(), "graceful exit: {exit:?}");

    let (ids, total) = fake.distinct_ids();
    assert_eq!(ids.len(), EVENTS, "one distinct eventId per record");
    let items: HashSet<String> = fake
        .received()
        .iter()
        .filter_map(|r| r.event["itemId"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(items.len(), EVENTS, "every event arrived at least once");
    for id in ids.keys() {
        assert!(
            personalize_ingest::event_id::parse(id).is_some(),
            "derived id {id}"
        );
    }
    let replayed = total - EVENTS;
    let duplicated_ids = ids.values().filter(|n| **n > 1).count();
    eprintln!(
        "crash test: {EVENTS} events, {KILLS} SIGKILLs, {total} deliveries, {replayed} replayed \
         ({duplicated_ids} distinct ids seen more than once), {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        !std::fs::read_to_string(dir.join("dead-letter.jsonl"))
            .unwrap_or_default()
            .contains("reason")
    );
}

/// Every record of a one-shard stream, in shard order: (sequence number, data).
async fn read_all(k: &aws_sdk_kinesis::Client, stream: &str) -> Vec<(String, Vec<u8>)> {
    let shard_id = "shardId-000000000000";
    let mut it = trim_horizon(k, stream, shard_id).await;
    let mut all = Vec::new();
    loop {
        let out = k
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .expect("GetRecords");
        if out.records().is_empty() {
            return all;
        }
        all.extend(
            out.records()
                .iter()
                .map(|r| (r.sequence_number().to_owned(), r.data().as_ref().to_vec())),
        );
        match out.next_shard_iterator() {
            Some(next) => it = next.to_owned(),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_skips_the_records_its_bitmap_marks() {
    resume_from_a_bitmap(true).await;
}

/// As if the shard had been trimmed past S: the stored F is not the first record after S, so
/// the offsets cannot be trusted and every record after S is sent (and record 21 dead-lettered).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_whose_first_record_does_not_match_sends_everything_after_the_base() {
    resume_from_a_bitmap(false).await;
}

/// Resumes a 60-record shard from a position after record 9 whose bitmap marks 8 records, with
/// F right (`guard_holds`) or wrong.
async fn resume_from_a_bitmap(guard_holds: bool) {
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("resume");
    create_stream(&k, &stream, 1).await;
    const RECORDS: usize = 60;
    // Record 21 is malformed: it was dead-lettered before the restart and is marked resolved, so
    // it must not be dead-lettered again (offsets count dead-lettered records too).
    let records: Vec<(String, Vec<u8>)> = (0..RECORDS)
        .map(|n| {
            let user = format!("u{}", n % 7);
            let data = if n == 21 {
                b"{not json".to_vec()
            } else {
                seed_record(&user, &format!("i{n}"), 1_700_000_000 + n as i64)
            };
            (user, data)
        })
        .collect();
    put_records(&k, &stream, &records).await;
    let stored = read_all(&k, &stream).await;
    assert_eq!(stored.len(), RECORDS);

    // Before the restart: records 0..=9 were the resolved prefix, and records 11, 12, 15, 16,
    // 17, 21, 30 and 43 (offsets 1, 2, 5, 6, 7, 11, 20 and 33 after record 9) were resolved too.
    let base = 9;
    let skipped = [11usize, 12, 15, 16, 17, 21, 30, 43];
    // F is the record after the base, or (a mismatch) the one after that.
    let first = if guard_holds { base + 1 } else { base + 2 };
    let position = Position::new(
        stored[base].0.clone(),
        stored[first].0.clone(),
        Bitmap::from_offsets(skipped.iter().map(|n| n - base - 1)),
    );
    let skipped: &[usize] = if guard_holds { &skipped } else { &[] };
    let dir = temp_dir("resume");
    std::fs::write(
        dir.join("checkpoints.json"),
        serde_json::json!({"shards": {"shardId-000000000000": position.to_string()}}).to_string(),
    )
    .expect("checkpoint file");
    assert_eq!(position.to_string().matches('+').count(), 2, "{position}");

    let fake = FakeEvents::start().await;
    // Small GetRecords batches and windows, so the offsets run across several of each.
    let sidecar = start_sidecar(
        moto,
        &stream,
        &fake.url,
        TrackingId::literal("tid"),
        &dir,
        None,
        |s| {
            s.batch_limit = 7;
            s.window_records = 10;
        },
    )
    .await;
    let expected: BTreeMap<String, usize> = (base + 1..RECORDS)
        .filter(|n| !skipped.contains(n) && *n != 21)
        .map(|n| (format!("i{n}"), 1))
        .collect();
    let last = stored[RECORDS - 1].0.clone();
    let checkpoint = dir.join("checkpoints.json");
    wait_for(
        "every record not skipped, and the checkpoint at the last record",
        Duration::from_secs(60),
        || async {
            fake.count() >= expected.len()
                && std::fs::read_to_string(&checkpoint)
                    .is_ok_and(|cp| cp.contains(&format!("\"{last}\"")))
        },
    )
    .await;
    // Give a wrongly resent record time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let metrics = sidecar.metrics.clone();
    sidecar.stop().await;

    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for r in fake.received() {
        let item = r.event["itemId"].as_str().expect("itemId").to_owned();
        *received.entry(item).or_default() += 1;
    }
    assert_eq!(
        received, expected,
        "exactly the records after the base and not in a trusted bitmap, each once"
    );
    assert_eq!(Metrics::get(&metrics.records_skipped), skipped.len() as u64);
    assert_eq!(
        Metrics::get(&metrics.resume_bitmaps_discarded),
        u64::from(!guard_holds)
    );
    assert_eq!(
        Metrics::get(&metrics.records_in),
        (RECORDS - base - 1) as u64,
        "read again after the base, skipped or not"
    );
    let dead_letters = std::fs::read_to_string(dir.join("dead-letter.jsonl")).unwrap_or_default();
    if guard_holds {
        assert_eq!(metrics.dead_lettered_total(), 0, "record 21 was skipped");
        assert!(dead_letters.is_empty(), "{dead_letters}");
    } else {
        assert_eq!(
            metrics.dead_lettered_total(),
            1,
            "record 21 was not skipped"
        );
        assert!(dead_letters.contains(&stored[21].0), "{dead_letters}");
    }
    let cp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&checkpoint).expect("checkpoint")).expect("JSON");
    assert_eq!(cp["shards"]["shardId-000000000000"], last.as_str(), "{cp}");
}
