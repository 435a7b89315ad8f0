//! What the operator's integration tests share: a namespace on the real apiserver, a
//! personalize-local of its own over HTTP (the real aws-sdk-personalize talks to it), and the
//! operator, either as controllers in the test process or as the real binary.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_personalize::config::Credentials;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use personalize_api::{Campaign, EventTracker, conditions::READY};
use personalize_operator::outcome::Timing;
use personalize_operator::personalize::sdk::Clients;
use personalize_operator::reconcile::Context;
use personalize_testkit::ControlPlane;

use crate::crds::cluster;

pub(crate) const TIMEOUT: Duration = Duration::from_secs(180);

/// Generated interactions in the MovieLens example's shape: enough users and events to pass
/// Personalize's training minimums, with a clear structure to learn.
pub(crate) fn write_data(data_dir: &Path) {
    let dir = data_dir.join("s3/personalize-demo/movielens");
    std::fs::create_dir_all(&dir).expect("bucket dir");
    for (name, content) in data_files() {
        std::fs::write(dir.join(name), content).expect(name);
    }
}

/// The example's CSV files (name, content): 60 users in three taste clusters, 120 items whose
/// GENRES follow the clusters (0-39 Drama, 40-79 Comedy, 80-119 Action).
pub(crate) fn data_files() -> [(&'static str, String); 2] {
    let mut interactions = String::from("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n");
    for user in 0..60u32 {
        for k in 0..25u32 {
            let item = (user % 3) * 40 + (user * 7 + k * 3) % 40;
            interactions.push_str(&format!(
                "{user},{item},watch,{}\n",
                1_600_000_000 + user * 100 + k
            ));
        }
    }
    let mut items = String::from("ITEM_ID,GENRES,YEAR\n");
    for item in 0..120u32 {
        let genre = ["Drama", "Comedy", "Action"][(item / 40) as usize];
        items.push_str(&format!("{item},{genre},{}\n", 1990 + item % 20));
    }
    [("interactions.csv", interactions), ("items.csv", items)]
}

/// PUT or GET over plain HTTP/1.0 (moto's S3, path-style): status and body, None when nothing
/// answers. Requests carry an Authorization header (moto refuses anonymous object reads; it does
/// not check signatures).
pub(crate) async fn http(method: &str, url: &str, body: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nAuthorization: {AUTHORIZATION}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
     SignedHeaders=host, Signature=0";

/// Writes `s3://<bucket>/<key>` in moto (creating the bucket if needed).
pub(crate) async fn s3_put(endpoint: &str, bucket: &str, key: &str, body: &str) {
    let bucket_url = format!("{endpoint}/{bucket}");
    let _ = http("PUT", &bucket_url, "").await;
    let (status, answer) = http("PUT", &format!("{bucket_url}/{key}"), body)
        .await
        .expect("moto answers");
    assert!(
        (200..300).contains(&status),
        "PUT s3://{bucket}/{key}: {status} {answer}"
    );
}

/// Reads `s3://<bucket>/<key>` from moto; None when it is not there.
pub(crate) async fn s3_get(endpoint: &str, bucket: &str, key: &str) -> Option<String> {
    let (status, body) = http("GET", &format!("{endpoint}/{bucket}/{key}"), "").await?;
    (status == 200).then_some(body)
}

pub(crate) async fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .load()
        .await
}

pub(crate) fn ready<K>(
    obj: &K,
    status: impl Fn(&K) -> Option<&personalize_api::ResourceStatus>,
) -> bool {
    status(obj).is_some_and(|s| s.is_true(READY))
}

pub(crate) async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if start.elapsed() > TIMEOUT {
            let cp = cluster().await;
            let mut get = cp.kubectl();
            get.args(["get", "personalize", "-A", "-o", "yaml"]);
            let state = get
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            panic!("timed out after {TIMEOUT:?} waiting for {what}; objects now:\n{state}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A namespace on the real apiserver, a personalize-local of its own (optionally with injected
/// faults), and the operator's controllers watching that namespace.
pub(crate) struct Harness {
    pub(crate) cp: &'static ControlPlane,
    pub(crate) ns: String,
    pub(crate) kube: kube::Client,
    pub(crate) local: personalize_local::Running,
    pub(crate) aws: aws_sdk_personalize::Client,
    pub(crate) operator: tokio::task::JoinHandle<()>,
    pub(crate) data: std::path::PathBuf,
}

impl Harness {
    pub(crate) async fn start(prefix: &str, faults: &[&str]) -> Harness {
        Self::start_with(prefix, faults, Duration::ZERO, true).await
    }

    /// A harness whose personalize-local reads and writes S3 in moto (the example's data is
    /// uploaded to `s3://personalize-demo/movielens/`), as it would with AWS.
    pub(crate) async fn start_on_moto_s3(prefix: &str) -> Harness {
        let moto = personalize_testkit::Moto::shared()
            .await
            .expect("moto starts");
        for (name, content) in data_files() {
            let key = format!("movielens/{name}");
            s3_put(moto.endpoint(), "personalize-demo", &key, &content).await;
        }
        Self::start_full(prefix, &[], Duration::ZERO, true, true).await
    }

    pub(crate) async fn start_with(
        prefix: &str,
        faults: &[&str],
        transition: Duration,
        in_process: bool,
    ) -> Harness {
        Self::start_full(prefix, faults, transition, in_process, false).await
    }

    async fn start_full(
        prefix: &str,
        faults: &[&str],
        transition: Duration,
        in_process: bool,
        moto_s3: bool,
    ) -> Harness {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .with_test_writer()
            .try_init();
        let cp: &ControlPlane = cluster().await;
        let ns = cp.create_namespace(prefix).await.expect("namespace");
        let data = personalize_testkit::temp_dir(&format!("operator-test-{ns}")).expect("temp dir");
        write_data(&data);
        let mut config = personalize_local::Config::for_tests(Some(data.clone()));
        config.transition = transition;
        // Metric attributions publish to CloudWatch: moto's.
        let moto = personalize_testkit::Moto::shared()
            .await
            .expect("moto starts");
        config.cloudwatch_endpoint = Some(moto.endpoint().to_owned());
        if moto_s3 {
            config.s3_endpoint = Some(moto.endpoint().to_owned());
        }
        for fault in faults {
            config.faults.add(fault).expect("valid fault spec");
        }
        let local = personalize_local::Running::start(config)
            .await
            .expect("personalize-local starts");
        let sdk = sdk_config(&local.url()).await;
        let aws = aws_sdk_personalize::Client::new(&sdk);
        let kube = cp.client();
        let operator = match in_process {
            true => controllers(kube.clone(), sdk, &ns),
            false => tokio::spawn(async {}),
        };
        Harness {
            cp,
            ns,
            kube,
            local,
            aws,
            operator,
            data,
        }
    }

    /// Stops the in-process controllers (if still running) and starts new ones: an operator
    /// restart, with nothing kept but what is in the apiserver.
    pub(crate) async fn restart_operator(&mut self) {
        self.operator.abort();
        let sdk = sdk_config(&self.local.url()).await;
        self.operator = controllers(self.kube.clone(), sdk, &self.ns);
    }

    pub(crate) fn apply(&self, path: &Path) {
        let mut apply = self.cp.kubectl();
        apply.args(["apply", "-n", &self.ns, "-f"]).arg(path);
        let out = apply.output().expect("kubectl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// How many requests of an operation personalize-local answered (any outcome).
    pub(crate) fn calls(&self, operation: &str) -> u64 {
        self.calls_by_operation()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Requests personalize-local answered so far, by operation (any outcome).
    pub(crate) fn calls_by_operation(&self) -> std::collections::BTreeMap<String, u64> {
        let mut calls = std::collections::BTreeMap::new();
        for line in self.local.state.metrics.render().lines() {
            let Some(labels) = line.strip_prefix("personalize_local_requests_total{") else {
                continue;
            };
            let operation = labels
                .split_once("operation=\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(op, _)| op.to_owned());
            let count = line.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok());
            if let (Some(operation), Some(count)) = (operation, count) {
                *calls.entry(operation).or_default() += count;
            }
        }
        calls
    }

    pub(crate) async fn stop(self) {
        self.operator.abort();
        self.local.stop().await.expect("personalize-local stops");
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// The operator's controllers in this process, watching `ns`.
fn controllers(
    kube: kube::Client,
    sdk: aws_config::SdkConfig,
    ns: &str,
) -> tokio::task::JoinHandle<()> {
    let reporter = Reporter {
        controller: "personalize-operator-test".into(),
        instance: None,
    };
    let recorder = Recorder::new(kube.clone(), reporter);
    let timing = Timing {
        poll: Duration::from_millis(250),
        resync: Duration::from_secs(30),
    };
    let ctx = Arc::new(Context::new(
        kube,
        Arc::new(Clients::new(sdk)),
        recorder,
        timing,
    ));
    let ns = ns.to_owned();
    tokio::spawn(async move { personalize_operator::controller::run(ctx, Some(&ns)).await })
}

pub(crate) async fn wait_ready(h: &Harness) {
    let campaigns: Api<Campaign> = Api::namespaced(h.kube.clone(), &h.ns);
    let trackers: Api<EventTracker> = Api::namespaced(h.kube.clone(), &h.ns);
    wait_for("the campaign and the event tracker to be Ready", || async {
        let c = campaigns.get("movielens").await.ok()?;
        let t = trackers.get("movielens").await.ok()?;
        (ready(&c, |c| c.status.as_ref().map(|s| &s.resource))
            && ready(&t, |t| t.status.as_ref().map(|s| &s.resource)))
        .then_some(())
    })
    .await;
}

/// The operator binary as a child process watching the harness's namespace, with `args` added
/// to `run`: give each process `--http-address` (a free port, or `off`), and either
/// `--leader-elect=false` or a lease in the test's namespace.
pub(crate) fn spawn_operator(h: &Harness, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_personalize-operator"))
        .args(["run", "--namespace", &h.ns, "--poll-seconds", "1"])
        .args(args)
        .env("KUBECONFIG", h.cp.kubeconfig_path())
        .env("AWS_ENDPOINT_URL", h.local.url())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()),
        )
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("the operator binary starts")
}

/// A free loopback port (released again; the caller's process binds it right after).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// GET `path` over plain HTTP/1.0: (status code, body), or None when nothing answers.
pub(crate) async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

/// The sum of the samples starting with `sample` in an operator's /metrics (0 when absent;
/// None when it does not answer).
pub(crate) async fn operator_metric(port: u16, sample: &str) -> Option<f64> {
    let (_, body) = http_get(port, "/metrics").await?;
    let total = body
        .lines()
        .filter(|l| l.starts_with(sample))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    Some(total)
}
