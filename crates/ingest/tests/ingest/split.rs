//! A Campaign's rollout through the gateway (issue #15), on the real apiserver, personalize-local
//! and moto: with `status.rollout` naming a candidate campaign at weight 50, each user is
//! answered by one arm, always the same, and the answer really comes from that arm's campaign;
//! `/metrics` counts what each arm served; a click on a served item counts once, for the arm
//! that served it, and reaches Kinesis naming the list. Then the benchmark of what the split
//! costs in latency (`make bench-split`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kube::Api;
use kube::api::{Patch, PatchParams};
use personalize_api::Campaign;
use personalize_api::campaign::{on_candidate, rollout_id};
use personalize_ingest::gateway::{self, ARM_HEADER, GatewayState};
use personalize_local::Running;
use personalize_local::resources::runtime::source_of_recommendation;
use personalize_testkit::personalize::{USER_PERSONALIZATION, create_campaign, train};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::gateway::put;
use super::support::*;

/// Distinct users sent through the split.
const USERS: usize = 200;

/// A gateway in front of a Campaign `movies` whose stable and candidate campaigns are real
/// campaigns of personalize-local (on two solution versions), and a moto stream for clicks.
struct Setup {
    app: axum::Router,
    campaigns: Api<Campaign>,
    ns: String,
    local: Running,
    stable: String,
    stable_version: String,
    candidate: String,
    candidate_version: String,
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
}

impl Setup {
    async fn start(name: &str) -> Setup {
        let cluster = cluster_with_crds().await;
        let ns = cluster.create_namespace(name).await.expect("namespace");
        let client = cluster.client();
        let campaigns: Api<Campaign> = Api::namespaced(client.clone(), &ns);
        wait_for("CRDs served", Duration::from_secs(30), || async {
            campaigns.list(&Default::default()).await.is_ok()
        })
        .await;

        let (local, deployed) = deployed_local(name, |_| {}).await;
        let config = sdk_config(&local.url(), "AKIDLOCALTEST", "local-test-secret").await;
        let control = aws_sdk_personalize::Client::new(&config);
        let candidate_name = format!("{name}-candidate");
        let dg = &deployed.dataset_group.arn;
        let trained = train(&control, dg, &candidate_name, USER_PERSONALIZATION)
            .await
            .expect("a second solution version");
        let candidate = create_campaign(&control, &candidate_name, &trained.version)
            .await
            .expect("the candidate campaign");

        let moto = moto().await;
        let kinesis = kinesis(moto).await;
        let stream = unique(name);
        create_stream(&kinesis, &stream, 1).await;

        let pinned =
            json!({"versionPolicy": "Pinned", "solutionVersionArn": deployed.solution_version});
        let active = json!({"arn": deployed.campaign, "status": "ACTIVE"});
        put(&campaigns, "Campaign", "movies", pinned, active).await;
        let app = gateway::app(GatewayState {
            kinesis: kinesis.clone(),
            runtime: aws_sdk_personalizeruntime::Client::new(&config),
            kube: Some(client),
            namespace: ns.clone(),
            default_stream: Some(stream.clone()),
            arms: Default::default(),
        });
        Setup {
            app,
            campaigns,
            ns,
            local,
            stable: deployed.campaign,
            stable_version: deployed.solution_version,
            candidate,
            candidate_version: trained.version,
            kinesis,
            stream,
        }
    }

    /// Writes `status.rollout` as the operator does while the candidate serves `weight`
    /// percent of users, or removes it (None).
    async fn set_rollout(&self, weight: Option<i32>) {
        self.set_rollout_to(&self.candidate, weight).await;
    }

    /// [`Setup::set_rollout`] with `candidate` as the candidate campaign.
    async fn set_rollout_to(&self, candidate: &str, weight: Option<i32>) {
        let rollout = weight.map(|weight| {
            json!({"phase": "Progressing", "stableVersionArn": self.stable_version,
                   "candidateVersionArn": self.candidate_version,
                   "candidateCampaignArn": candidate, "weight": weight, "step": 0})
        });
        let status = json!({"status": {"rollout": rollout}});
        let written = self
            .campaigns
            .patch_status("movies", &PatchParams::default(), &Patch::Merge(status))
            .await
            .expect("Campaign status");
        let kept = written.status.and_then(|s| s.rollout).map(|r| r.weight);
        assert_eq!(
            kept, weight,
            "the apiserver keeps status.rollout as written"
        );
    }

    /// The campaign that made a recommendationId, as personalize-local resolves it.
    fn source_of(&self, recommendation_id: &str) -> Option<String> {
        source_of_recommendation(&self.local.state.lock(), recommendation_id)
    }
}

/// One request to the gateway: status, `x-personalize-arm` and the JSON body.
async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let resp = app.clone().oneshot(req).await.expect("gateway answers");
    let status = resp.status();
    let arm = resp
        .headers()
        .get(ARM_HEADER)
        .map(|v| v.to_str().expect("an ASCII header").to_owned());
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, arm, body)
}

fn get(query: &str) -> Request<Body> {
    Request::get(format!("/getRecommendations?{query}"))
        .body(Body::empty())
        .expect("request")
}

fn click(user: &str, item: &str) -> Request<Body> {
    let sent_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let body = json!({
        "Data": {"userId": user, "itemId": item, "eventType": "click", "sentAt": sent_at},
        "PartitionKey": "userId",
    });
    Request::post("/data")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

/// The value of the sample `name{labels}` in a Prometheus text exposition, if there is one.
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|v| v.parse().expect("a number"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_splits_users_stickily_and_counts_each_arm() {
    let s = Setup::start("split").await;
    s.set_rollout(Some(50)).await;
    let rollout = rollout_id(&s.candidate_version);

    // Each user twice: one arm per user, the one the sticky hash names, answered by that arm's
    // campaign, with the body of a plain GetRecommendations.
    let mut arms: HashMap<String, String> = HashMap::new();
    let mut lists: HashMap<String, (String, Vec<String>)> = HashMap::new();
    for round in 0..2 {
        for n in 0..USERS {
            let user = format!("u{n}");
            let (status, arm, body) = send(
                &s.app,
                get(&format!("campaign=movies&userId={user}&numResults=5")),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let arm = arm.expect("x-personalize-arm");
            let mut keys: Vec<&str> = body
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                ["$metadata", "itemList", "recommendationId"],
                "{body}"
            );
            let rid = body["recommendationId"]
                .as_str()
                .expect("recommendationId")
                .to_owned();
            let expected = if on_candidate(&user, 50) {
                ("candidate", &s.candidate)
            } else {
                ("stable", &s.stable)
            };
            assert_eq!(arm, expected.0, "{user}");
            assert_eq!(
                s.source_of(&rid).as_ref(),
                Some(expected.1),
                "{user}: {rid}"
            );
            if round == 0 {
                arms.insert(user.clone(), arm);
            } else {
                assert_eq!(arms[&user], arm, "{user} stays on one arm");
            }
            let items = body["itemList"]
                .as_array()
                .expect("itemList")
                .iter()
                .map(|i| i["itemId"].as_str().expect("itemId").to_owned())
                .collect();
            lists.insert(user, (rid, items));
        }
    }
    let candidates = arms.values().filter(|a| *a == "candidate").count();
    assert!(
        (USERS * 3 / 10..=USERS * 7 / 10).contains(&candidates),
        "{candidates} of {USERS} users on the candidate"
    );

    // By ARN: the campaign named, no arm, no count (callers' ARNs make no label sets).
    let query = format!("campaignArn={}&userId=u1", s.stable);
    let (status, arm, body) = send(&s.app, get(&query)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(arm, None);

    let metrics = |app: axum::Router| async move {
        let req = Request::get("/metrics")
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = send(&app, req).await;
        assert_eq!(status, StatusCode::OK);
        body.as_str().expect("text").to_owned()
    };
    let text = metrics(s.app.clone()).await;
    assert!(!text.contains("arn:aws"), "{text}");
    let campaign = format!("{}/movies", s.ns);
    let labels = |arm: &str| format!("campaign=\"{campaign}\",rollout=\"{rollout}\",arm=\"{arm}\"");
    for (arm, users) in [("candidate", candidates), ("stable", USERS - candidates)] {
        let served = sample(
            &text,
            "personalize_gateway_recommendations_total",
            &labels(arm),
        );
        assert_eq!(served, Some(2.0 * users as f64), "{arm}: {text}");
        let latency = format!("campaign=\"{campaign}\",arm=\"{arm}\"");
        let calls = sample(
            &text,
            "personalize_gateway_recommendation_seconds_count",
            &latency,
        );
        assert_eq!(calls, Some(2.0 * users as f64), "{arm}: {text}");
    }
    assert!(
        !text.contains("personalize_gateway_clicks_total{"),
        "{text}"
    );

    // A candidate user clicks a served item twice, a stable user an item not served, then one
    // that was: one click each arm.
    let on = |arm: &str| {
        let mut users: Vec<&String> = arms
            .iter()
            .filter(|(_, a)| *a == arm)
            .map(|(u, _)| u)
            .collect();
        users.sort();
        users[0].clone()
    };
    let (candidate_user, stable_user) = (on("candidate"), on("stable"));
    let (candidate_rid, candidate_items) = &lists[&candidate_user];
    let (stable_rid, stable_items) = &lists[&stable_user];
    assert!(!candidate_items.is_empty() && !stable_items.is_empty());
    let clicks = [
        (&candidate_user, &candidate_items[0]),
        (&candidate_user, &candidate_items[0]),
        (&stable_user, &"not-served".to_owned()),
        (&stable_user, &stable_items[0]),
    ];
    for (user, item) in clicks {
        let (status, _, body) = send(&s.app, click(user, item)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let text = metrics(s.app.clone()).await;
    for arm in ["candidate", "stable"] {
        let clicked = sample(&text, "personalize_gateway_clicks_total", &labels(arm));
        assert_eq!(clicked, Some(1.0), "{arm}: {text}");
    }
    // The first click on each list names it; the others are sent as they came.
    let sent = stream_records(&s.kinesis, &s.stream).await;
    let named: Vec<Option<&str>> = sent
        .iter()
        .map(|r| r["recommendationId"].as_str())
        .collect();
    assert_eq!(
        named,
        [
            Some(candidate_rid.as_str()),
            None,
            None,
            Some(stable_rid.as_str())
        ],
        "{sent:?}"
    );
    s.local.stop().await.expect("personalize-local stops");
}

/// `p` (0 to 1) of `xs`, in milliseconds (nearest rank).
fn percentile(xs: &[Duration], p: f64) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// `n` GetRecommendations through `app` by `concurrency` closed-loop clients, users taken in
/// turn from the [`USERS`]: each request's latency.
async fn closed_loop(app: &axum::Router, n: usize, concurrency: usize) -> Vec<Duration> {
    let next = Arc::new(AtomicUsize::new(0));
    let clients = (0..concurrency).map(|_| {
        let (app, next) = (app.clone(), next.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return latencies;
                }
                let query = format!("campaign=movies&userId=u{}&numResults=10", i % USERS);
                let started = Instant::now();
                let (status, _, body) = send(&app, get(&query)).await;
                latencies.push(started.elapsed());
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        })
    });
    let mut all = Vec::with_capacity(n);
    for client in futures::future::join_all(clients).await {
        all.extend(client.expect("client task"));
    }
    all
}

/// The gateway's latency with the split (rollout at weight 50) against without (no rollout),
/// in alternating rounds: `SPLIT_BENCH_ROUNDS` (6) rounds of `SPLIT_BENCH_REQUESTS` (500)
/// requests each way, 4 clients in a closed loop, the order of the two flipped every round.
/// With `SPLIT_BENCH_CANDIDATE=stable` the rollout names the stable campaign as its candidate:
/// personalize-local then does the same work either way, and the ratio is the gateway's own
/// cost. Run with `make bench-split`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run with make bench-split"]
async fn split_latency() {
    let rounds = env_or("SPLIT_BENCH_ROUNDS", 6).max(1);
    let requests = env_or("SPLIT_BENCH_REQUESTS", 500).max(1);
    let concurrency = 4;
    let s = Setup::start("split-bench").await;
    let same_campaign = std::env::var("SPLIT_BENCH_CANDIDATE").is_ok_and(|v| v == "stable");
    let candidate = if same_campaign {
        s.stable.clone()
    } else {
        s.candidate.clone()
    };
    // Warm both campaigns' models and the connections.
    s.set_rollout(Some(50)).await;
    closed_loop(&s.app, USERS * 2, concurrency).await;

    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut runs = Vec::new();
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for split in order {
            s.set_rollout_to(&candidate, split.then_some(50)).await;
            let latencies = closed_loop(&s.app, requests, concurrency).await;
            let run = json!({"round": round, "split": split,
                             "p50_ms": percentile(&latencies, 0.5),
                             "p99_ms": percentile(&latencies, 0.99)});
            eprintln!("{run}");
            runs.push(run);
            if split {
                with.extend(latencies);
            } else {
                without.extend(latencies);
            }
        }
    }
    let (p50_with, p99_with) = (percentile(&with, 0.5), percentile(&with, 0.99));
    let (p50_without, p99_without) = (percentile(&without, 0.5), percentile(&without, 0.99));
    println!(
        "{}",
        json!({"bench": "gateway_split_latency", "rounds": rounds, "requests": requests,
               "concurrency": concurrency, "users": USERS, "candidate_is_stable": same_campaign,
               "with_split": {"p50_ms": p50_with, "p99_ms": p99_with},
               "without_split": {"p50_ms": p50_without, "p99_ms": p99_without},
               "p50_ratio": p50_with / p50_without, "p99_ratio": p99_with / p99_without,
               "runs": runs})
    );
    println!(
        "split latency: with the split p50 {p50_with:.2} ms p99 {p99_with:.2} ms, without p50 \
         {p50_without:.2} ms p99 {p99_without:.2} ms: ratio p50 {:.2} p99 {:.2} (target <= 1.1; \
         {rounds} rounds x {requests} requests each way, {concurrency} closed-loop clients)",
        p50_with / p50_without,
        p99_with / p99_without,
    );
    s.local.stop().await.expect("personalize-local stops");
}
