//! Two replicas share a stream's shards through Kubernetes Leases on the real apiserver (fair
//! share each, checkpoints in the lease annotations); when one stops, the other takes its
//! shards over from their checkpoints and nothing is lost.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::api::ListParams;
use personalize_ingest::checkpoint_store::CheckpointStore;
use personalize_ingest::leases::{CONSUMER_LABEL, Leases, default_prefix};
use personalize_ingest::metrics::Metrics;
use personalize_ingest::tracking::TrackingId;
use personalize_testkit::ControlPlane;

use super::support::*;

fn records(from: usize, to: usize) -> Vec<(String, Vec<u8>)> {
    (from..to)
        .map(|n| {
            let user = format!("u{}", n % 100);
            let record = seed_record(&user, &format!("i{n}"), 1_700_000_000 + n as i64);
            (user, record)
        })
        .collect()
}

/// Shard leases per holder.
async fn holders(api: &Api<Lease>, prefix: &str) -> BTreeMap<String, usize> {
    let list = api
        .list(&ListParams::default().labels(&format!("{CONSUMER_LABEL}={prefix}")))
        .await
        .expect("list leases");
    let mut out = BTreeMap::new();
    for l in list.items {
        let name = l.metadata.name.unwrap_or_default();
        if name.contains("-member-") {
            continue;
        }
        if let Some(h) = l
            .spec
            .and_then(|s| s.holder_identity)
            .filter(|h| !h.is_empty())
        {
            *out.entry(h).or_default() += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_shards_and_hand_them_over() {
    let cluster = ControlPlane::shared().await.expect("control plane");
    let ns = cluster
        .create_namespace("ingest-leases")
        .await
        .expect("namespace");
    let client = cluster.client();
    let moto = moto().await;
    let k = kinesis(moto).await;
    let stream = unique("leases");
    create_stream(&k, &stream, 4).await;
    put_records(&k, &stream, &records(0, 2000)).await;
    let fake = FakeEvents::start().await;
    let prefix = default_prefix(&stream);
    let start = |holder: &'static str| {
        let store = CheckpointStore::Leases(Box::new(Leases::new(
            client.clone(),
            &ns,
            &prefix,
            holder,
            3,
        )));
        let dir = temp_dir(holder);
        let stream = stream.clone();
        let url = fake.url.clone();
        async move {
            start_sidecar_with_rate(
                moto,
                &stream,
                &url,
                TrackingId::literal("tid"),
                &dir,
                None,
                |s| s.shard_sync = Duration::from_millis(300),
                1000.0,
                Some(store),
            )
            .await
        }
    };
    let a = start("replica-a").await;
    let b = start("replica-b").await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), &ns);
    wait_for("two shards each", Duration::from_secs(30), || async {
        let h = holders(&leases, &prefix).await;
        h.get("replica-a") == Some(&2) && h.get("replica-b") == Some(&2)
    })
    .await;
    put_records(&k, &stream, &records(2000, 4000)).await;
    wait_for("4000 events", Duration::from_secs(60), || async {
        fake.distinct_ids().0.len() >= 4000
    })
    .await;
    assert!(Metrics::get(&a.metrics.records_in) > 0 && Metrics::get(&b.metrics.records_in) > 0);

    // Replica a stops: b takes over all four shards from their checkpoints.
    a.stop().await;
    wait_for("b holds every shard", Duration::from_secs(30), || async {
        holders(&leases, &prefix).await.get("replica-b") == Some(&4)
    })
    .await;
    put_records(&k, &stream, &records(4000, 5000)).await;
    wait_for("5000 events", Duration::from_secs(60), || async {
        fake.distinct_ids().0.len() >= 5000
    })
    .await;
    b.stop().await;
    let (ids, total) = fake.distinct_ids();
    assert_eq!(ids.len(), 5000);
    eprintln!(
        "leases: 5000 events, {total} deliveries, {} replayed across the hand-over",
        total - 5000
    );
    let lease_list = leases.list(&ListParams::default()).await.expect("list");
    let checkpointed = lease_list
        .items
        .iter()
        .filter(|l| {
            l.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key("personalize-ingest.dev/checkpoint"))
        })
        .count();
    assert_eq!(
        checkpointed, 4,
        "every shard's checkpoint lives in its lease"
    );
}
