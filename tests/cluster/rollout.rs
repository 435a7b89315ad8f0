//! Progressive delivery end to end on MovieLens 100K: the operator (in this process, restarted
//! mid-rollout), personalize-local over HTTP, the real apiserver, and the gateway (in this
//! process, on loopback) between simulated users and Personalize.
//!
//! Each user's last 10 ratings are held out; the users ask the gateway for 25 recommendations
//! and click the first held-out item among them (a POST /data, as the seed's walkthrough
//! does), so a better model really earns more clicks. The dataset is imported three times:
//! item ids shuffled (v1, a useless model, deployed directly), the real interactions (v2: a
//! better candidate, promoted), shuffled again (v3: a worse candidate, aborted at 10%), and the
//! real interactions again (v4, promoted by annotation). No request of the users may fail during
//! any of it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use personalize_api::campaign::ROLLOUT_ANNOTATION;
use personalize_api::conditions::TERMINAL;
use personalize_api::{Campaign, RolloutPhase};
use serde_json::{Value, json};

use crate::harness::{Harness, sdk_config, wait_for};

/// Held-out ratings per user.
const HELD_OUT: usize = 10;
/// Concurrent simulated users.
const USERS_IN_FLIGHT: usize = 4;

/// ML-100K split for the test: training rows, the same rows with item ids shuffled, and each
/// user's held-out items.
struct Split {
    good: String,
    shuffled: String,
    held_out: HashMap<String, HashSet<String>>,
}

/// The MovieLens 100K directory (hack/data/movielens.sh downloads it once into the cache).
fn movielens_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("bash")
        .arg(repo.join("hack/data/movielens.sh"))
        .output()
        .expect("hack/data/movielens.sh runs");
    assert!(
        out.status.success(),
        "hack/data/movielens.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn split(dir: &Path) -> Split {
    let text = std::fs::read_to_string(dir.join("ml-100k.inter")).expect("ml-100k.inter");
    let mut by_user: HashMap<String, Vec<(u64, String)>> = HashMap::new();
    let mut items = std::collections::BTreeSet::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let time = f[3].parse::<f64>().expect("timestamp") as u64;
        by_user
            .entry(f[0].to_owned())
            .or_default()
            .push((time, f[1].to_owned()));
        items.insert(f[1].to_owned());
    }
    // A fixed bijection of item ids: the shuffled data keeps every count and none of the taste.
    let items: Vec<String> = items.into_iter().collect();
    let mut shuffled_ids = items.clone();
    let mut rng = fastrand::Rng::with_seed(15);
    rng.shuffle(&mut shuffled_ids);
    let shuffle: HashMap<&str, &str> = items
        .iter()
        .map(String::as_str)
        .zip(shuffled_ids.iter().map(String::as_str))
        .collect();
    let header = "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n";
    let (mut good, mut shuffled) = (header.to_owned(), header.to_owned());
    let mut held_out = HashMap::new();
    for (user, mut rows) in by_user {
        rows.sort();
        let keep = rows.len().saturating_sub(HELD_OUT);
        for (time, item) in &rows[..keep] {
            good.push_str(&format!("{user},{item},watch,{time}\n"));
            shuffled.push_str(&format!("{user},{},watch,{time}\n", shuffle[item.as_str()]));
        }
        let held: HashSet<String> = rows[keep..].iter().map(|(_, i)| i.clone()).collect();
        held_out.insert(user, held);
    }
    Split {
        good,
        shuffled,
        held_out,
    }
}

/// What the simulated users saw.
#[derive(Default)]
struct Traffic {
    requests: AtomicU64,
    failures: AtomicU64,
    clicks: AtomicU64,
    stop: AtomicBool,
}

type Http = Client<HttpConnector, Full<Bytes>>;

async fn call(http: &Http, request: hyper::Request<Full<Bytes>>) -> Option<(u16, Value)> {
    let response = tokio::time::timeout(Duration::from_secs(10), http.request(request))
        .await
        .ok()?
        .ok()?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// One simulated user session after another until stopped: ask for 25 recommendations, click
/// the first held-out item among them.
async fn users(
    base: String,
    stream: String,
    held_out: Arc<HashMap<String, HashSet<String>>>,
    traffic: Arc<Traffic>,
    seed: u64,
) {
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    let users: Vec<&String> = held_out.keys().collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    while !traffic.stop.load(Ordering::Relaxed) {
        let user = users[rng.usize(..users.len())];
        let uri = format!("{base}/getRecommendations?campaign=movies&userId={user}&numResults=25");
        let request = hyper::Request::get(uri)
            .body(Full::default())
            .expect("request");
        traffic.requests.fetch_add(1, Ordering::Relaxed);
        let Some((200, answer)) = call(&http, request).await else {
            traffic.failures.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let listed = answer["itemList"].as_array().cloned().unwrap_or_default();
        let clicked = listed
            .iter()
            .filter_map(|i| i["itemId"].as_str())
            .find(|i| held_out[user].contains(*i));
        let Some(item) = clicked else {
            continue;
        };
        let event = json!({
            "stream-name": stream,
            "PartitionKey": "userId",
            "Data": {
                "userId": user,
                "itemId": item,
                "eventType": "click",
                "sentAt": k8s_openapi::jiff::Timestamp::now().as_second(),
            },
        });
        let request = hyper::Request::post(format!("{base}/data"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event.to_string())))
            .expect("request");
        traffic.requests.fetch_add(1, Ordering::Relaxed);
        match call(&http, request).await {
            Some((200, _)) => {
                traffic.clicks.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                traffic.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn manifests(metrics_url: &str) -> String {
    format!(
        r#"apiVersion: personalize-operator.dev/v1alpha1
kind: DatasetGroup
metadata:
  name: movies
spec:
  datasets:
    interactions:
      schema:
        type: record
        name: Interactions
        namespace: com.amazonaws.personalize.schema
        version: "1.0"
        fields:
          - {{name: USER_ID, type: string}}
          - {{name: ITEM_ID, type: string}}
          - {{name: EVENT_TYPE, type: string}}
          - {{name: TIMESTAMP, type: long}}
      import:
        dataLocation: s3://personalize-demo/rollout/shuffled.csv
        roleArn: arn:aws:iam::000000000000:role/PersonalizeS3Read
        mode: FULL
        revision: "1"
---
apiVersion: personalize-operator.dev/v1alpha1
kind: Solution
metadata:
  name: movies
spec:
  datasetGroupRef: {{name: movies}}
  recipe: aws-user-personalization
  training:
    retrain: {{onImport: true, mode: FULL}}
---
apiVersion: personalize-operator.dev/v1alpha1
kind: Campaign
metadata:
  name: movies
spec:
  solutionRef: {{name: movies}}
  versionPolicy: Latest
  minProvisionedTPS: 2
  rollout:
    strategy: Canary
    steps:
      - {{weight: 10, pause: 15s}}
      - {{weight: 50, pause: 15s}}
    analysis:
      metricsUrls: ["{metrics_url}"]
      minSamples: 150
      maxRegression: 0.1
      failureLimit: 2
"#
    )
}

/// Imports `file` as the group's interactions (a new revision): the Solution retrains, and the
/// Campaign rolls out the new version.
async fn import(h: &Harness, file: &str, revision: &str) {
    let groups: Api<personalize_api::DatasetGroup> = Api::namespaced(h.kube.clone(), &h.ns);
    let patch = json!({"spec": {"datasets": {"interactions": {"import": {
        "dataLocation": format!("s3://personalize-demo/rollout/{file}"),
        "revision": revision,
    }}}}});
    groups
        .patch("movies", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch the import");
}

/// Waits for the rollout of a version other than `after` to reach `phase` with its candidate
/// deleted, recording the largest weight the candidate had; the rollout and that weight.
async fn rollout_ended(
    campaigns: &Api<Campaign>,
    after: &str,
    phase: RolloutPhase,
    mut on_step: impl FnMut(&personalize_api::RolloutStatus),
) -> (personalize_api::RolloutStatus, i32) {
    let mut largest = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let status = campaigns.get("movies").await.ok().and_then(|c| c.status);
        if let Some(r) = status.and_then(|s| s.rollout)
            && r.candidate_version_arn != after
        {
            largest = largest.max(r.weight);
            on_step(&r);
            if r.phase == phase && r.candidate_campaign_arn.is_none() {
                return (r, largest);
            }
            let ended = !r.phase.is_active() && r.phase != phase;
            assert!(
                !ended,
                "the rollout ended {:?}, not {phase:?}: {r:?}",
                r.phase
            );
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for a rollout to end {phase:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn deployed(c: &Campaign) -> Option<String> {
    c.status.as_ref()?.deployed_version_arn.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_better_version_is_promoted_a_worse_one_aborted_and_a_restart_resumes() {
    let started = Instant::now();
    let mut h = Harness::start("rollout", &[]).await;
    let data = split(&movielens_dir());
    let bucket = h.data.join("s3/personalize-demo/rollout");
    std::fs::create_dir_all(&bucket).expect("bucket");
    std::fs::write(bucket.join("good.csv"), &data.good).expect("good.csv");
    std::fs::write(bucket.join("shuffled.csv"), &data.shuffled).expect("shuffled.csv");

    // The gateway, on loopback.
    let moto = personalize_testkit::Moto::shared().await.expect("moto");
    let kinesis = aws_sdk_kinesis::Client::new(&sdk_config(moto.endpoint()).await);
    let stream = format!("{}-clicks", h.ns);
    kinesis
        .create_stream()
        .stream_name(&stream)
        .shard_count(1)
        .send()
        .await
        .expect("CreateStream");
    let runtime = aws_sdk_personalizeruntime::Client::new(&sdk_config(&h.local.url()).await);
    let app = personalize_ingest::gateway::app(personalize_ingest::gateway::GatewayState {
        kinesis,
        runtime,
        kube: Some(h.kube.clone()),
        namespace: h.ns.clone(),
        default_stream: None,
        arms: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    // v1: the shuffled data, deployed directly (a first deployment is not rolled out).
    let file = std::env::temp_dir().join(format!("{}-rollout.yaml", h.ns));
    std::fs::write(&file, manifests(&format!("{base}/metrics"))).expect("manifests");
    h.apply(&file);
    let campaigns: Api<Campaign> = Api::namespaced(h.kube.clone(), &h.ns);
    let v1 = wait_for("the campaign to serve v1", || async {
        deployed(&campaigns.get("movies").await.ok()?)
    })
    .await;
    println!("v1 (shuffled) deployed after {:.0?}", started.elapsed());

    let traffic = Arc::new(Traffic::default());
    let held_out = Arc::new(data.held_out);
    let sessions: Vec<_> = (0..USERS_IN_FLIGHT)
        .map(|i| {
            let args = (
                base.clone(),
                stream.clone(),
                held_out.clone(),
                traffic.clone(),
            );
            tokio::spawn(users(args.0, args.1, args.2, args.3, i as u64))
        })
        .collect();

    // (a) v2, the real data: a better candidate, promoted. (c) The operator is restarted while
    // the candidate serves 50%: the same step goes on, with the same candidate campaign.
    import(&h, "good.csv", "2").await;
    let creates_before = h.calls("CreateCampaign");
    let at_half = wait_for("the candidate to serve 50%", || async {
        let r = campaigns.get("movies").await.ok()?.status?.rollout?;
        (r.candidate_version_arn != v1 && r.weight == 50).then_some(r)
    })
    .await;
    println!(
        "v2 at 50% after {:.0?}; restarting the operator",
        started.elapsed()
    );
    h.operator.abort();
    tokio::time::sleep(Duration::from_secs(2)).await;
    h.restart_operator().await;
    let (promoted, _) = rollout_ended(&campaigns, &v1, RolloutPhase::Promoted, |r| {
        if r.phase == RolloutPhase::Progressing {
            assert_eq!(r.step, at_half.step, "the restart resumes the same step");
            assert_eq!(r.step_started_time, at_half.step_started_time);
        }
    })
    .await;
    let c = campaigns.get("movies").await.expect("campaign");
    let v2 = promoted.candidate_version_arn.clone();
    assert_eq!(deployed(&c), Some(v2.clone()), "the campaign serves v2");
    println!(
        "promoted v2 after {:.0?}: stable {:?}, candidate {:?}; {:?}",
        started.elapsed(),
        promoted.stable,
        promoted.candidate,
        promoted.message
    );
    assert_eq!(
        h.calls("CreateCampaign") - creates_before,
        1,
        "one candidate campaign, adopted after the restart"
    );

    // (b) v3, shuffled again: a worse candidate, aborted before 50%.
    import(&h, "shuffled.csv", "3").await;
    let (aborted, largest) = rollout_ended(&campaigns, &v2, RolloutPhase::Aborted, |_| {}).await;
    println!(
        "aborted v3 at {largest}%: {:?}; stable {:?}, candidate {:?}",
        aborted.message, aborted.stable, aborted.candidate
    );
    assert!(largest < 50, "aborted before 50%: reached {largest}%");
    let c = campaigns.get("movies").await.expect("campaign");
    assert_eq!(deployed(&c), Some(v2.clone()), "the campaign keeps v2");
    let terminal = c
        .status
        .as_ref()
        .and_then(|s| s.resource.condition(TERMINAL));
    assert_eq!(
        terminal.map(|t| (t.status.as_str(), t.reason.as_str())),
        Some(("True", "RolloutAborted")),
        "{terminal:?}"
    );

    // (d) By hand: v4 (the real data again) is promoted by annotation at its first step, and
    // the annotation is removed once the rollout has ended.
    import(&h, "good.csv", "4").await;
    let v3 = aborted.candidate_version_arn.clone();
    wait_for("the rollout of v4 to serve", || async {
        let r = campaigns.get("movies").await.ok()?.status?.rollout?;
        (r.candidate_version_arn != v3 && r.weight > 0).then_some(())
    })
    .await;
    let annotate = json!({"metadata": {"annotations": {ROLLOUT_ANNOTATION: "promote"}}});
    campaigns
        .patch("movies", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .expect("annotate");
    let (by_hand, largest) = rollout_ended(&campaigns, &v3, RolloutPhase::Promoted, |_| {}).await;
    assert_eq!(largest, 10, "promoted at the first step");
    assert!(
        by_hand
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("serves version"),
        "{by_hand:?}"
    );
    wait_for("the promote annotation to be removed", || async {
        let c = campaigns.get("movies").await.ok()?;
        (!c.annotations().contains_key(ROLLOUT_ANNOTATION)).then_some(())
    })
    .await;
    let c = campaigns.get("movies").await.expect("campaign");
    assert_eq!(deployed(&c), Some(by_hand.candidate_version_arn.clone()));

    traffic.stop.store(true, Ordering::Relaxed);
    for session in sessions {
        session.await.expect("users");
    }
    let requests = traffic.requests.load(Ordering::Relaxed);
    let failures = traffic.failures.load(Ordering::Relaxed);
    println!(
        "{requests} requests ({} clicks), {failures} failed, in {:.0?}",
        traffic.clicks.load(Ordering::Relaxed),
        started.elapsed()
    );
    assert_eq!(failures, 0, "no request fails during promote or abort");
    assert!(requests > 1000, "{requests} requests");

    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(h.kube.clone(), &h.ns);
    let warned = wait_for("the RolloutAborted Warning Event", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("RolloutAborted"))
    })
    .await;
    assert_eq!(warned.type_.as_deref(), Some("Warning"));
    let _ = std::fs::remove_file(&file);
    h.stop().await;
}
