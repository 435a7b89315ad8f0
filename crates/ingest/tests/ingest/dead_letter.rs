//! Bad records land in the dead-letter file with their reasons; the good ones around them all
//! arrive (through injected server errors, which are retried).

use std::collections::BTreeSet;
use std::time::Duration;

use personalize_ingest::tracking::TrackingId;
use serde_json::json;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_are_dead_lettered_and_the_good_ones_arrive() {
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("dead-letter");
    create_stream(&k, &stream, 1).await;
    let fake = FakeEvents::start().await;
    *fake.state.fail_first.lock().expect("lock") = 3;

    let bad: Vec<Vec<u8>> = vec![
        b"{not json".to_vec(),
        json!({"userId": "u1", "itemId": "i1", "sentAt": 1700000000}).to_string().into_bytes(),
        json!({"userId": "u1", "itemId": "i1", "eventType": "click", "sentAt": 1700000000, "pad": "x".repeat(11_000)}).to_string().into_bytes(),
        json!({"userId": "u1", "itemId": "i1", "eventType": "reject-me", "sentAt": 1700000000}).to_string().into_bytes(),
        json!({"userId": "u1", "itemId": "i1", "eventType": "click", "sentAt": 1700000000, "interactions": 0}).to_string().into_bytes(),
    ];
    let mut records = Vec::new();
    let mut good = 0;
    for (n, b) in bad.iter().enumerate() {
        for g in 0..3 {
            let item = format!("good{}", n * 3 + g);
            records.push((
                "u1".to_string(),
                seed_record("u1", &item, 1_700_000_000 + good),
            ));
            good += 1;
        }
        records.push(("u1".to_string(), b.clone()));
    }
    put_records(&k, &stream, &records).await;

    let dir = temp_dir("dead-letter");
    let sidecar = start_sidecar(
        moto,
        &stream,
        &fake.url,
        TrackingId::literal("tid"),
        &dir,
        None,
        |_| {},
    )
    .await;
    let dl_path = dir.join("dead-letter.jsonl");
    let good_count = good as usize;
    wait_for(
        "good events and dead letters",
        Duration::from_secs(60),
        || async {
            fake.received().len() >= good_count && dead_letters(&dl_path).len() >= bad.len()
        },
    )
    .await;
    let metrics = sidecar.metrics.clone();
    sidecar.stop().await;

    let received = fake.received();
    let items: BTreeSet<String> = received
        .iter()
        .filter_map(|r| r.event["itemId"].as_str().map(str::to_owned))
        .collect();
    let expected: BTreeSet<String> = (0..good_count).map(|n| format!("good{n}")).collect();
    assert_eq!(items, expected, "every good event arrives, and only those");
    assert!(
        received.iter().all(|r| r.tracking_id == "tid"),
        "the record's trackingId is overridden"
    );
    assert!(received.iter().all(|r| r.event["sentAt"].is_number()));

    let entries = dead_letters(&dl_path);
    let dl = serde_json::to_string(&entries).expect("entries");
    let reasons: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert_eq!(
        reasons,
        BTreeSet::from([
            "MalformedJson",
            "MissingField",
            "TooLarge",
            "RejectedByPutEvents",
            "InvalidField"
        ]),
        "{dl}"
    );
    assert!(
        entries
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty()))
    );
    assert!(
        entries
            .iter()
            .all(|e| e["sequenceNumber"].as_str().is_some())
    );
    let missing = entries
        .iter()
        .find(|e| e["reason"] == "MissingField")
        .expect("missing field entry");
    assert_eq!(missing["message"], "required field eventType is missing");
    assert_eq!(metrics.dead_lettered_total(), bad.len() as u64);
    assert!(
        metrics
            .render()
            .contains("personalize_ingest_put_events_retries_total")
    );
    assert!(
        personalize_ingest::metrics::Metrics::get(&metrics.put_events_retries) >= 3,
        "the injected 500s were retried"
    );
    let cp = std::fs::read_to_string(dir.join("checkpoints.json")).expect("checkpoint file");
    assert!(cp.contains("shardId-"), "{cp}");
}

/// The dead-letter destination can also be a second Kinesis stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_can_go_to_a_second_stream() {
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("dl-src");
    let dl_stream = unique("dl-dst");
    create_stream(&k, &stream, 1).await;
    create_stream(&k, &dl_stream, 1).await;
    let records = vec![
        ("u1".to_string(), seed_record("u1", "ok1", 1_700_000_000)),
        ("u1".to_string(), b"not json at all".to_vec()),
        ("u1".to_string(), seed_record("u1", "ok2", 1_700_000_001)),
    ];
    put_records(&k, &stream, &records).await;
    let fake = FakeEvents::start().await;
    let dir = temp_dir("dl-stream");
    let dl = personalize_ingest::dead_letter::DeadLetter::stream(k.clone(), &dl_stream);
    let sidecar = start_sidecar(
        moto,
        &stream,
        &fake.url,
        TrackingId::literal("tid"),
        &dir,
        Some(dl),
        |_| {},
    )
    .await;
    wait_for("good events", Duration::from_secs(30), || async {
        fake.received().len() >= 2
    })
    .await;
    sidecar.stop().await;
    let records = stream_records(&k, &dl_stream).await;
    assert_eq!(records.len(), 1);
    let entry = &records[0];
    assert_eq!(entry["reason"], "MalformedJson");
    assert_eq!(entry["data"], "not json at all");
    assert_eq!(entry["stream"], stream.as_str());
}
