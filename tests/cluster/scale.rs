//! Benchmark (ignored by default; `make bench-operator`): N sets of the MovieLens example
//! (DatasetGroup, Solution, Campaign, EventTracker) created at once against personalize-local
//! with instant transitions. Prints the time until all are Ready, the operator's peak RSS, the
//! Personalize calls per resource to converge, and the calls per resource per hour once idle at
//! the default resync. N is `PO_BENCH_SETS` (default 200).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kube::api::{Api, ListParams};
use personalize_api::{Campaign, DatasetGroup, EventTracker, ResourceStatus, Solution};

use crate::crds::repo;
use crate::harness::{Harness, free_port, operator_metric, spawn_operator, wait_for};

/// The four kinds of the protocol (BENCHMARKS.md), from the MovieLens example, once per set,
/// renamed `set-<i>`.
fn manifests(sets: usize) -> String {
    let dir = repo().join("examples/movielens");
    let files = [
        "00-dataset-group.yaml",
        "10-solution.yaml",
        "20-campaign.yaml",
        "20-event-tracker.yaml",
    ];
    let example: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).expect("example"))
        .collect();
    let mut out = String::new();
    for i in 0..sets {
        for doc in &example {
            let doc = doc
                .replace("movielens-user-personalization", &format!("set-{i}"))
                .replace("name: movielens", &format!("name: set-{i}"))
                .replace("movielens-tracking-id", &format!("set-{i}-tracking-id"));
            out.push_str("---\n");
            out.push_str(&doc);
        }
    }
    out
}

/// Creates every document of `yaml` in namespace `ns`, 16 requests at a time.
async fn create_all(h: &Harness, ns: &str, yaml: &str) {
    use futures::StreamExt;
    use kube::api::{ApiResource, DynamicObject, PostParams};
    let kinds = [
        ApiResource::erase::<DatasetGroup>(&()),
        ApiResource::erase::<Solution>(&()),
        ApiResource::erase::<Campaign>(&()),
        ApiResource::erase::<EventTracker>(&()),
    ];
    let mut objects = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let obj: DynamicObject = serde::Deserialize::deserialize(doc).expect("a manifest");
        let kind = obj
            .types
            .as_ref()
            .map(|t| t.kind.clone())
            .unwrap_or_default();
        let resource = kinds
            .iter()
            .find(|r| r.kind == kind)
            .unwrap_or_else(|| panic!("unexpected kind {kind}"))
            .clone();
        objects.push((resource, obj));
    }
    futures::stream::iter(objects)
        .for_each_concurrent(16, |(resource, obj)| async move {
            let api: Api<DynamicObject> = Api::namespaced_with(h.kube.clone(), ns, &resource);
            api.create(&PostParams::default(), &obj)
                .await
                .expect("object created");
        })
        .await;
}

fn ready(status: Option<&ResourceStatus>) -> bool {
    status.is_some_and(|s| s.is_true(personalize_api::conditions::READY))
}

/// How many objects of one kind are Ready.
async fn ready_of<K>(h: &Harness, status: impl Fn(&K) -> Option<&ResourceStatus>) -> usize
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(h.kube.clone(), &h.ns);
    api.list(&ListParams::default())
        .await
        .map(|list| list.items.iter().filter(|o| ready(status(o))).count())
        .unwrap_or(0)
}

/// How many objects of the four kinds are Ready.
async fn count_ready(h: &Harness) -> usize {
    ready_of(h, |o: &DatasetGroup| o.status.as_ref().map(|s| &s.resource)).await
        + ready_of(h, |o: &Solution| o.status.as_ref().map(|s| &s.resource)).await
        + ready_of(h, |o: &Campaign| o.status.as_ref().map(|s| &s.resource)).await
        + ready_of(h, |o: &EventTracker| o.status.as_ref().map(|s| &s.resource)).await
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Write requests the apiserver has served so far, by resource (from its /metrics).
fn apiserver_writes(h: &Harness) -> BTreeMap<String, u64> {
    let mut get = h.cp.kubectl();
    get.args(["get", "--raw", "/metrics"]);
    let out = get.output().expect("kubectl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut writes = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let label = |name: &str| {
            line.split_once(&format!("{name}=\""))
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(v, _)| v.to_owned())
                .unwrap_or_default()
        };
        let verb = label("verb");
        if !matches!(verb.as_str(), "POST" | "PATCH" | "PUT" | "DELETE" | "APPLY") {
            continue;
        }
        let key = format!("{verb} {}/{}", label("resource"), label("subresource"));
        let n = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        *writes.entry(key).or_default() += n as u64;
    }
    writes
}

fn total(calls: &BTreeMap<String, u64>) -> u64 {
    calls.values().sum()
}

fn delta(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(op, n)| (op.clone(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn operator(h: &Harness, port: u16, resync_seconds: u64) -> std::process::Child {
    let address = format!("127.0.0.1:{port}");
    let resync = resync_seconds.to_string();
    spawn_operator(
        h,
        &[
            "--leader-elect=false",
            "--http-address",
            &address,
            "--resync-seconds",
            &resync,
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-operator"]
async fn bench_sets_converge_and_idle() {
    let sets: usize = std::env::var("PO_BENCH_SETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let resources = sets * 4;
    let h = Harness::start_with("scale", &[], Duration::ZERO, false).await;

    // Baseline: the same creates into a namespace no operator watches (the apiserver alone).
    let idle_ns =
        h.cp.create_namespace("scale-baseline")
            .await
            .expect("namespace");
    let baseline = Instant::now();
    create_all(&h, &idle_ns, &manifests(sets)).await;
    let baseline = baseline.elapsed();

    // Converge: the operator at its defaults (poll 1 s while AWS is mid-transition).
    let port = free_port();
    let mut op = operator(&h, port, 600);
    wait_for("the operator to serve /metrics", || async {
        operator_metric(port, "personalize_operator_leader").await
    })
    .await;
    let writes_before = apiserver_writes(&h);
    let started = Instant::now();
    create_all(&h, &h.ns, &manifests(sets)).await;
    let created = started.elapsed();
    let mut deadline_ok = true;
    loop {
        let n = count_ready(&h).await;
        if n == resources {
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            deadline_ok = false;
            eprintln!("only {n}/{resources} Ready after 900 s");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let to_ready = started.elapsed();
    let converge_calls = h.calls_by_operation();
    let writes = delta(&apiserver_writes(&h), &writes_before);
    let rss = peak_rss_mb(op.id());
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &op.id().to_string()])
        .status();
    let _ = op.wait();
    assert!(deadline_ok, "all {resources} objects became Ready");

    // Idle: a fresh operator with a 20 s resync on the converged sets. Its first pass and every
    // resync after it cost the same; count the calls of three resync periods after the first.
    let idle_resync = 20;
    let port = free_port();
    let mut op = operator(&h, port, idle_resync);
    wait_for("the first pass over every object", || async {
        let n = operator_metric(port, "personalize_operator_reconciles_total").await?;
        (n >= resources as f64).then_some(())
    })
    .await;
    let before = h.calls_by_operation();
    let window = Duration::from_secs(idle_resync * 3);
    tokio::time::sleep(window).await;
    let idle_calls = delta(&h.calls_by_operation(), &before);
    let _ = op.kill();
    let _ = op.wait();

    let per_resync = total(&idle_calls) as f64 / resources as f64 / 3.0;
    let per_hour_default = per_resync * 3600.0 / 600.0;
    println!("\n## operator scale: {sets} sets ({resources} objects), instant personalize-local");
    println!(
        "creating all objects (16 at a time): {:.1} s while the operator works; {:.1} s with \
         no operator watching (the apiserver alone)",
        created.as_secs_f64(),
        baseline.as_secs_f64()
    );
    println!(
        "time to all Ready: {:.1} s (target <= 60 s)",
        to_ready.as_secs_f64()
    );
    println!("operator peak RSS: {rss:.0} MB (target <= 150 MB)");
    println!(
        "calls to converge: {} total, {:.2} per object",
        total(&converge_calls),
        total(&converge_calls) as f64 / resources as f64
    );
    println!("  by operation: {converge_calls:?}");
    println!(
        "apiserver writes to converge (creates included): {} total, {:.2} per object",
        total(&writes),
        total(&writes) as f64 / resources as f64
    );
    println!("  by verb and resource: {writes:?}");
    println!(
        "idle: {} calls in {} s at resync {} s = {:.2} per object per resync",
        total(&idle_calls),
        window.as_secs(),
        idle_resync,
        per_resync
    );
    println!("  by operation: {idle_calls:?}");
    println!(
        "idle calls per object per hour at the default 600 s resync: {per_hour_default:.1} \
         (target <= 6; Crossplane's 1-minute poll: 60)"
    );
    h.stop().await;
}
