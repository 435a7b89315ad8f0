//! Leader election between real operator processes: one leads and reconciles while the others
//! stand by; SIGTERM hands the lease over at once; SIGKILL hands it over when it expires. The
//! probes and metrics are read over HTTP as kubelet and Prometheus would.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::crds::repo;
use crate::harness::{
    Harness, free_port, http_get as get, operator_metric as metric, spawn_operator, wait_for,
    wait_ready,
};

struct Replica {
    child: Child,
    port: u16,
}

fn replica(h: &Harness, lease_seconds: u32) -> Replica {
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let seconds = lease_seconds.to_string();
    let child = spawn_operator(
        h,
        &[
            "--http-address",
            &address,
            "--lease-namespace",
            &h.ns,
            "--lease-name",
            "leader",
            "--lease-duration-seconds",
            &seconds,
        ],
    );
    Replica { child, port }
}

async fn leads(r: &Replica) -> Option<bool> {
    metric(r.port, "personalize_operator_leader ")
        .await
        .map(|v| v == 1.0)
}

async fn wait_leading(r: &Replica, what: &str) -> Duration {
    let start = Instant::now();
    wait_for(what, || async { leads(r).await.filter(|l| *l) }).await;
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_leads_and_the_lease_moves_on_sigterm_and_on_sigkill() {
    let h = Harness::start_with("leader", &[], Duration::ZERO, false).await;

    // A leads (with a long lease); B, started after, stands by and is healthy and ready.
    let mut a = replica(&h, 60);
    wait_leading(&a, "replica A to lead").await;
    let mut b = replica(&h, 4);
    wait_for("replica B to be ready", || async {
        let ready = get(b.port, "/readyz").await?.0 == 200;
        let healthy = get(b.port, "/healthz").await?.0 == 200;
        (ready && healthy).then_some(())
    })
    .await;

    h.apply(&repo().join("examples/movielens"));
    wait_ready(&h).await;
    assert_eq!(leads(&b).await, Some(false), "B stands by while A leads");
    assert_eq!(
        metric(b.port, "personalize_operator_aws_calls_total").await,
        Some(0.0),
        "the standby made no AWS call"
    );
    assert!(
        metric(a.port, "personalize_operator_reconciles_total").await > Some(0.0),
        "the leader reconciled"
    );

    // SIGTERM: A releases the lease, so B takes over long before A's 60 s lease would expire.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &a.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let handover = wait_leading(&b, "replica B to lead after A's SIGTERM").await;
    assert!(
        handover < Duration::from_secs(30),
        "B took {handover:?}: A did not release its lease"
    );
    let exit = a.child.wait().expect("A exits");
    assert!(exit.success(), "A shut down cleanly: {exit:?}");

    // SIGKILL: B cannot release; C takes over once B's 4 s lease expires, and reconciles.
    let mut c = replica(&h, 4);
    wait_for("replica C to be ready", || async {
        (get(c.port, "/readyz").await?.0 == 200).then_some(())
    })
    .await;
    assert_eq!(leads(&c).await, Some(false), "C stands by while B leads");
    b.child.kill().expect("SIGKILL B");
    let _ = b.child.wait();
    wait_leading(&c, "replica C to lead after B's SIGKILL").await;
    wait_for("replica C to reconcile", || async {
        (metric(c.port, "personalize_operator_reconciles_total").await? > 0.0).then_some(())
    })
    .await;

    let _ = c.child.kill();
    let _ = c.child.wait();
    h.stop().await;
}
