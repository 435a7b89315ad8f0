//! Test support for integration tests: a real local Kubernetes control plane
//! ([`ControlPlane`]: kube-apiserver with embedded etcd, built by `hack/kube/build.sh`) and a
//! moto server for Kinesis and S3 ([`Moto`]), plus [`proc_stat`] (CPU time for benchmarks),
//! [`temp_dir`], and with the `personalize` feature [`personalize`] (a trained campaign deployed
//! through the Personalize SDK on a server the caller starts). It drives the repository's `hack/kube/up.sh` and
//! `hack/moto/up.sh`, so tests and shells share one way of starting things. It must not depend
//! on the project's other crates, so every crate can use it as a dev-dependency.
//!
//! # Lifetime of what it starts
//!
//! Rust never drops statics, so "kill on drop" cannot work for a service shared by all tests of
//! a process. Instead, a service the testkit starts itself is *owned by the test process*: it is
//! started with `up.sh --owner-pid <test pid>` into `.cache/testkit/<kind>-<pid>/`, and `up.sh`
//! leaves a watchdog that runs the matching `down.sh` about a second after the test process
//! exits, however it exits (success, panic, SIGKILL). `down.sh` removes the state dir unless
//! `PO_KUBE_KEEP=1` / `PO_MOTO_KEEP=1` is set (keep the logs of a failed run that way).
//!
//! A service the testkit *reuses* is never stopped by it; whoever started it stops it:
//! - `PO_KUBE_STATE=<dir>`: the control plane of that `hack/kube/up.sh` state dir (started there
//!   if it is not running). CI does `hack/kube/up.sh "$D"`, runs the tests with
//!   `PO_KUBE_STATE="$D"`, then `hack/kube/down.sh "$D"`.
//! - `KUBECONFIG=<file>` (one file) whose current cluster is on a loopback address and answers;
//!   e.g. after `source .cache/kube/env`. A kubeconfig for a non-loopback server is ignored and
//!   a private control plane is started instead: tests never touch a real cluster.
//! - `PO_MOTO_STATE=<dir>`: the moto server of that `hack/moto/up.sh` state dir.
//!
//! Each control plane has a fresh etcd, but there is no kube-controller-manager: namespaces
//! never finish deleting and ownerReferences are not garbage collected. Give every test its own
//! namespace ([`ControlPlane::create_namespace`]) and never rely on cascading deletion.
//!
//! Every wait is bounded: `up.sh` waits for readiness (`PO_KUBE_READY_TIMEOUT`, default 90 s),
//! and the testkit bounds the whole `up.sh` run (`PO_TESTKIT_UP_TIMEOUT`, default 1800 s, which
//! covers a cold apiserver build; build it first with `hack/kube/build.sh` to keep tests fast).

mod control_plane;
mod moto;
#[cfg(feature = "personalize")]
pub mod personalize;
pub mod proc_stat;
mod script;

/// A fresh, empty directory under the system temp dir, named `personalize-<name>-<random>`. It is
/// kept after the test (its logs and data help a post-mortem); the OS cleans the temp dir.
pub fn temp_dir(name: &str) -> std::io::Result<std::path::PathBuf> {
    Ok(tempfile::Builder::new()
        .prefix(&format!("personalize-{name}-"))
        .tempdir()?
        .keep())
}

pub use control_plane::{CREATED_BY_LABEL, ControlPlane, Error as ControlPlaneError, Origin};
pub use moto::{ACCESS_KEY_ID, Error as MotoError, Moto, REGION, SECRET_ACCESS_KEY};
pub use script::ScriptError;
