//! 20,000 events while the sidecar (the real binary) is killed with SIGKILL 10 times: every
//! event arrives at least once, duplicates are recognisable by their eventId, and the number
//! replayed is reported.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

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
