//! The lease lock against a real kube-apiserver: one holder at a time, renewal, loss, release.

use personalize_lease::{Error, LeaseLock};
use personalize_testkit::ControlPlane;

#[tokio::test]
async fn one_holder_at_a_time_and_release_hands_over() {
    let cp = ControlPlane::shared().await.expect("control plane");
    let client = cp.client();
    let ns = cp.create_namespace("lease").await.expect("namespace");

    let a = LeaseLock::new(client.clone(), &ns, "leader", "a", 30);
    let b = LeaseLock::new(client.clone(), &ns, "leader", "b", 30);
    assert!(
        a.try_acquire().await.expect("a acquires"),
        "a takes the free lease"
    );
    assert!(
        !b.try_acquire().await.expect("b tries"),
        "b cannot take a live lease"
    );
    assert!(
        a.try_acquire().await.expect("a renews"),
        "a renews its own lease"
    );
    a.renew(&[("example.dev/note", "x")])
        .await
        .expect("a renews");
    assert!(
        matches!(b.renew(&[]).await, Err(Error::Lost { .. })),
        "b does not hold it"
    );
    let stored = a.get().await.expect("get").expect("exists");
    assert_eq!(
        stored.metadata.annotations.expect("annotations")["example.dev/note"],
        "x"
    );

    a.release().await;
    assert!(
        b.try_acquire().await.expect("b acquires"),
        "b takes the released lease"
    );
    assert!(
        matches!(a.renew(&[]).await, Err(Error::Lost { .. })),
        "a lost it"
    );
    assert!(
        !a.try_acquire().await.expect("a tries"),
        "a cannot take it back"
    );
}

#[tokio::test]
async fn an_expired_lease_is_taken_over() {
    let cp = ControlPlane::shared().await.expect("control plane");
    let client = cp.client();
    let ns = cp
        .create_namespace("lease-expiry")
        .await
        .expect("namespace");

    let a = LeaseLock::new(client.clone(), &ns, "leader", "a", 1);
    let b = LeaseLock::new(client.clone(), &ns, "leader", "b", 1);
    assert!(a.try_acquire().await.expect("a acquires"));
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    assert!(
        b.try_acquire().await.expect("b acquires"),
        "a's lease expired"
    );
    let spec = b
        .get()
        .await
        .expect("get")
        .expect("exists")
        .spec
        .expect("spec");
    assert_eq!(spec.holder_identity.as_deref(), Some("b"));
    assert_eq!(spec.lease_transitions, Some(1));
}
