//! Smoke tests of the testkit itself: a real control plane and a real moto server start, answer,
//! and are usable from kube-rs, kubectl and the AWS CLI. (One test binary per crate, see STYLE.md.)

use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::ListParams;
use personalize_testkit::{ControlPlane, Moto};

const EXPECTED_SERVER_VERSION: &str = "v1.35.4";

#[tokio::test]
async fn control_plane_serves_kube_rs_and_kubectl() {
    let cp = ControlPlane::shared().await.expect("control plane starts");
    assert_eq!(cp.server_version(), EXPECTED_SERVER_VERSION);

    let namespaces: Api<Namespace> = Api::all(cp.client());
    let before = namespaces
        .list(&ListParams::default())
        .await
        .expect("namespaces list");
    assert!(
        before
            .items
            .iter()
            .any(|ns| ns.metadata.name.as_deref() == Some("default")),
        "the default namespace exists"
    );

    let name = cp
        .create_namespace("smoke")
        .await
        .expect("namespace created");
    let created = namespaces
        .get(&name)
        .await
        .expect("created namespace readable");
    assert_eq!(created.metadata.name.as_deref(), Some(name.as_str()));

    let output = cp
        .kubectl()
        .args(["version", "--output=json", "--request-timeout=30s"])
        .output()
        .expect("kubectl runs");
    assert!(
        output.status.success(),
        "kubectl version failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("kubectl version prints JSON");
    assert_eq!(
        version["serverVersion"]["gitVersion"],
        EXPECTED_SERVER_VERSION
    );
    assert_eq!(
        version["clientVersion"]["gitVersion"],
        EXPECTED_SERVER_VERSION
    );

    let output = cp
        .kubectl()
        .args([
            "get",
            "namespace",
            &name,
            "--output=name",
            "--request-timeout=30s",
        ])
        .output()
        .expect("kubectl runs");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("namespace/{name}")
    );
}

#[tokio::test]
async fn moto_answers_kinesis() {
    let moto = Moto::shared().await.expect("moto starts");
    assert!(
        moto.endpoint().starts_with("http://127.0.0.1:"),
        "{}",
        moto.endpoint()
    );

    let stream = format!("smoke-{}", std::process::id());
    let output = moto
        .aws_cli()
        .args([
            "kinesis",
            "create-stream",
            "--stream-name",
            &stream,
            "--shard-count",
            "1",
        ])
        .output()
        .expect("aws cli runs");
    assert!(
        output.status.success(),
        "create-stream failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = moto
        .aws_cli()
        .args(["kinesis", "list-streams", "--output", "json"])
        .output()
        .expect("aws cli runs");
    assert!(
        output.status.success(),
        "list-streams failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("list-streams prints JSON");
    assert!(
        listed["StreamNames"]
            .as_array()
            .is_some_and(|names| names.iter().any(|n| n == stream.as_str())),
        "{listed}"
    );
}
