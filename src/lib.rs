//! personalize-operator: reconciles the `personalize-operator.dev` custom resources into Amazon
//! Personalize (or anything that speaks its API, such as personalize-local).
//!
//! Layout: [`controller`] wires the watches; [`reconcile`] is the loop every kind shares, with
//! one module per kind; [`resource`] the one algorithm every Personalize resource is synced and
//! deleted by; [`personalize`] the seam to AWS (the SDK behind a trait); [`references`] what
//! references resolve to and who references what; [`outcome`] the pure decisions about
//! conditions and requeues; [`scrape`] reads the gateways' counts for rollouts; [`naming`] deterministic AWS identity; [`leader`] the leader lease;
//! [`http`] probes and [`metrics`].

pub mod controller;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod naming;
pub mod outcome;
pub mod personalize;
pub mod reconcile;
pub mod references;
pub mod resource;
pub mod scrape;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use kube::runtime::events::{Recorder, Reporter};

/// Settings of `personalize-operator run`.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Watch only this namespace (all when None).
    pub namespace: Option<String>,
    /// Poll interval while AWS is mid-transition.
    pub poll: Duration,
    /// Resync interval once everything is ACTIVE.
    pub resync: Duration,
    /// Where to serve `/healthz`, `/readyz` and `/metrics` (none: not served).
    pub http_address: Option<SocketAddr>,
    /// Leader election (none: this replica always reconciles).
    pub election: Option<leader::Election>,
}

/// Builds the shared context from a Kubernetes client and the standard AWS configuration.
pub async fn context(kube: kube::Client, settings: &Settings) -> Arc<reconcile::Context> {
    let reporter = Reporter {
        controller: "personalize-operator".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let recorder = Recorder::new(kube.clone(), reporter);
    let aws = Arc::new(personalize::sdk::Clients::from_env().await);
    let timing = outcome::Timing {
        poll: settings.poll,
        resync: settings.resync,
    };
    Arc::new(reconcile::Context::new(kube, aws, recorder, timing))
}

/// Serves probes and metrics, waits for the leader lease when election is on, then runs the
/// controllers until SIGTERM or ctrl-c (releasing the lease) or until the lease is lost (an error:
/// the process should exit so that it restarts as a standby).
pub async fn run(kube: kube::Client, settings: Settings) -> anyhow::Result<()> {
    let readiness = http::Readiness::default();
    if let Some(address) = settings.http_address {
        let bound = http::serve(address, readiness.clone())
            .await
            .with_context(|| format!("serving health and metrics on {address}"))?;
        tracing::info!(%bound, "serving /healthz, /readyz and /metrics");
    }
    let version = kube
        .apiserver_version()
        .await
        .context("reaching the Kubernetes API")?;
    tracing::info!(kubernetes = %version.git_version, "connected to Kubernetes");
    readiness.set(true);

    let leadership = match settings.election.clone() {
        None => None,
        Some(election) => tokio::select! {
            held = leader::acquire(kube.clone(), election) => Some(held),
            () = shutdown_signal() => return Ok(()),
        },
    };
    metrics::global().set_leader(true);
    let ctx = context(kube, &settings).await;
    let controllers = controller::run(ctx, settings.namespace.as_deref());
    let Some(leadership) = leadership else {
        controllers.await;
        return Ok(());
    };
    tokio::select! {
        () = controllers => {
            leadership.release().await;
            Ok(())
        }
        why = leadership.hold() => {
            metrics::global().set_leader(false);
            anyhow::bail!("lost leadership: {why}")
        }
    }
}

/// Resolves on SIGTERM or ctrl-c.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
