//! The CRDs on a real apiserver: they install and become Established, the examples are accepted,
//! invalid manifests are refused at admission with a message naming the field, and `kubectl get`
//! and `kubectl explain` show what a user needs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use personalize_testkit::ControlPlane;
use tokio::sync::OnceCell;

const CRD_NAMES: [&str; 4] = [
    "datasetgroups.personalize-operator.dev",
    "solutions.personalize-operator.dev",
    "campaigns.personalize-operator.dev",
    "eventtrackers.personalize-operator.dev",
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(mut command: Command) -> Output {
    command.output().expect("kubectl can be started")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Installs the committed CRDs once per test process and waits until they are Established.
pub async fn cluster() -> &'static ControlPlane {
    static INSTALLED: OnceCell<()> = OnceCell::const_new();
    let cp = ControlPlane::shared()
        .await
        .expect("the local control plane starts");
    INSTALLED
        .get_or_init(|| async {
            let mut apply = cp.kubectl();
            apply
                .args(["apply", "--server-side", "-f"])
                .arg(repo().join("crds"));
            let out = run(apply);
            assert!(
                out.status.success(),
                "installing CRDs failed: {}",
                text(&out.stderr)
            );
            let mut wait = cp.kubectl();
            wait.args(["wait", "--for=condition=Established", "--timeout=60s"]);
            wait.args(CRD_NAMES.iter().map(|n| format!("crd/{n}")));
            let out = run(wait);
            assert!(
                out.status.success(),
                "CRDs not Established: {}",
                text(&out.stderr)
            );
        })
        .await;
    cp
}

#[tokio::test]
async fn crds_are_established_and_kubectl_get_personalize_lists_every_kind() {
    let cp = cluster().await;
    let ns = cp.create_namespace("crds").await.expect("namespace");
    let mut apply = cp.kubectl();
    apply
        .args(["apply", "-n", &ns, "-f"])
        .arg(repo().join("examples/movielens"));
    let out = run(apply);
    assert!(
        out.status.success(),
        "applying the MovieLens example: {}",
        text(&out.stderr)
    );

    let mut get = cp.kubectl();
    get.args(["get", "personalize", "-n", &ns, "-o", "name"]);
    let out = run(get);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let names = text(&out.stdout);
    for want in [
        "datasetgroup.personalize-operator.dev/movielens",
        "solution.personalize-operator.dev/movielens-user-personalization",
        "campaign.personalize-operator.dev/movielens",
        "eventtracker.personalize-operator.dev/movielens",
        "filter.personalize-operator.dev/genre",
    ] {
        assert!(
            names.lines().any(|l| l == want),
            "{want} missing from:\n{names}"
        );
    }

    // Short names resolve too.
    for short in ["pdg", "psol", "pcamp", "pet", "pfilter", "prec"] {
        let mut get = cp.kubectl();
        get.args(["get", short, "-n", &ns]);
        let out = run(get);
        assert!(
            out.status.success(),
            "kubectl get {short}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test]
async fn printer_columns_make_kubectl_get_useful() {
    let cp = cluster().await;
    let ns = cp.create_namespace("columns").await.expect("namespace");
    let mut apply = cp.kubectl();
    apply
        .args(["apply", "-n", &ns, "-f"])
        .arg(repo().join("examples/movielens/20-campaign.yaml"));
    assert!(run(apply).status.success());
    // (kind, the columns of `kubectl get`, the ones `-o wide` adds)
    let expected = [
        (
            "campaigns",
            "NAME READY STATUS VERSION MIN-TPS ROLLOUT CANARY AGE",
            "ARN",
        ),
        (
            "solutions",
            "NAME READY STATUS RECIPE LATEST TRAINING AGE",
            "ARN",
        ),
        (
            "datasetgroups",
            "NAME READY STATUS DOMAIN IMPORT AGE",
            "ARN",
        ),
        ("eventtrackers", "NAME READY STATUS TRACKING-ID AGE", "ARN"),
        (
            "filters",
            "NAME READY STATUS REPLACEMENT AGE",
            "EXPRESSION ARN",
        ),
        ("recommenders", "NAME READY STATUS RECIPE STATE AGE", "ARN"),
        ("metricattributions", "NAME READY STATUS METRICS AGE", "ARN"),
    ];
    for (kind, header, _) in expected {
        let mut get = cp.kubectl();
        // A header is printed even for an empty list when asked for a specific kind with -A.
        get.args(["get", kind, "-n", &ns]);
        let out = run(get);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        if kind == "campaigns" {
            let first = stdout.lines().next().unwrap_or_default();
            let columns = first.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(columns, header, "kubectl get {kind} header");
            let row = stdout.lines().nth(1).unwrap_or_default();
            assert!(
                row.split_whitespace().any(|c| c == "1"),
                "MIN-TPS shows 1: {row}"
            );
        }
    }
    // Every kind's columns, from the CRD itself as served.
    for (kind, header, wide) in expected {
        let mut get = cp.kubectl();
        get.args([
            "get",
            "crd",
            &format!("{kind}.personalize-operator.dev"),
            "-o",
        ]);
        get.arg("jsonpath={.spec.versions[0].additionalPrinterColumns[*].name}");
        let out = run(get);
        let served = text(&out.stdout).to_uppercase();
        // The wide columns are there too, shown with `-o wide` (priority 1).
        let mut want: Vec<&str> = header.split(' ').skip(1).collect();
        want.extend(wide.split(' '));
        assert_eq!(
            served.split(' ').collect::<Vec<_>>(),
            want,
            "{kind} columns"
        );
    }
}

#[tokio::test]
async fn kubectl_explain_shows_the_field_docs() {
    let cp = cluster().await;
    let mut explain = cp.kubectl();
    explain.args(["explain", "campaign.spec"]);
    let out = run(explain);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc = text(&out.stdout);
    for want in [
        "minProvisionedTPS",
        "Minimum provisioned transactions per second",
        "versionPolicy",
    ] {
        assert!(
            doc.contains(want),
            "`kubectl explain campaign.spec` lacks {want:?}:\n{doc}"
        );
    }
    let mut explain = cp.kubectl();
    explain.args(["explain", "recommender.spec.state"]);
    let out = run(explain);
    assert!(
        text(&out.stdout).contains("Inactive stops the recommender"),
        "{}",
        text(&out.stdout)
    );
    let mut explain = cp.kubectl();
    explain.args(["explain", "metricattribution.spec.metrics.expression"]);
    let out = run(explain);
    assert!(
        text(&out.stdout).contains("SUM(Items.<COLUMN>)"),
        "{}",
        text(&out.stdout)
    );
    let mut explain = cp.kubectl();
    explain.args(["explain", "filter.spec.filterExpression"]);
    let out = run(explain);
    assert!(
        text(&out.stdout).contains("Personalize's filter syntax"),
        "{}",
        text(&out.stdout)
    );
    let mut explain = cp.kubectl();
    explain.args(["explain", "solution.spec.training.autoTraining.schedule"]);
    let out = run(explain);
    assert!(
        text(&out.stdout).contains("rate(N days)"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn every_example_is_accepted_by_a_server_side_dry_run() {
    let cp = cluster().await;
    let ns = cp.create_namespace("examples").await.expect("namespace");
    let mut apply = cp.kubectl();
    apply
        .args(["apply", "--dry-run=server", "-R", "-n", &ns, "-f"])
        .arg(repo().join("examples"));
    let out = run(apply);
    assert!(
        out.status.success(),
        "examples refused:\n{}",
        text(&out.stderr)
    );
    let applied = text(&out.stdout).lines().count();
    assert!(
        applied >= 12,
        "expected every example object to be applied, got:\n{}",
        text(&out.stdout)
    );
}

/// One invalid manifest from tests/invalid: what the apiserver must say, and the documents.
/// A file with two documents is an update: the first is created, the second must be refused.
struct Case {
    file: PathBuf,
    expect: String,
    documents: Vec<String>,
}

fn invalid_cases() -> Vec<Case> {
    let dir = repo().join("tests/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/invalid exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let body = std::fs::read_to_string(&file).expect("readable case");
            let expect = body
                .lines()
                .find_map(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{} has no `# expect:` line", file.display()))
                .to_owned();
            let documents = body.split("\n---\n").map(str::to_owned).collect();
            Case {
                file,
                expect,
                documents,
            }
        })
        .collect()
}

fn apply_stdin(cp: &ControlPlane, ns: &str, document: &str, dry_run: bool) -> Output {
    use std::io::Write;
    let mut apply = cp.kubectl();
    apply.args(["apply", "-n", ns, "-f", "-"]);
    if dry_run {
        apply.arg("--dry-run=server");
    }
    apply
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    apply.stderr(std::process::Stdio::piped());
    let mut child = apply.spawn().expect("kubectl starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(document.as_bytes())
        .expect("kubectl reads the manifest");
    child.wait_with_output().expect("kubectl finishes")
}

fn short(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn invalid_manifests_are_refused_with_a_message_naming_the_field() {
    let cp = cluster().await;
    let ns = cp.create_namespace("invalid").await.expect("namespace");
    let cases = invalid_cases();
    assert!(
        cases.len() >= 15,
        "at least 15 invalid manifests, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let (setup, refused) = case.documents.split_at(case.documents.len() - 1);
        for document in setup {
            let out = apply_stdin(cp, &ns, document, false);
            assert!(
                out.status.success(),
                "{}: the original object must be accepted: {}",
                short(&case.file),
                text(&out.stderr)
            );
        }
        let out = apply_stdin(cp, &ns, &refused[0], setup.is_empty());
        let stderr = text(&out.stderr);
        if out.status.success() {
            failures.push(format!(
                "{}: accepted, but must be refused",
                short(&case.file)
            ));
        } else if !stderr.contains(&case.expect) {
            failures.push(format!(
                "{}: refused, but the message lacks {:?}:\n{stderr}",
                short(&case.file),
                case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
