//! personalize-operator: reconciles the `personalize-operator.dev` custom resources into Amazon
//! Personalize (or anything that speaks its API, such as personalize-local).
//!
//! Layout: [`controller`] wires the watches; [`reconcile`] holds one module per kind;
//! [`outcome`] the pure decisions about conditions and requeues; [`naming`] deterministic AWS
//! identity; [`aws`] the clients and error classification.

pub mod aws;
pub mod controller;
pub mod naming;
pub mod outcome;
pub mod reconcile;

use std::sync::Arc;
use std::time::Duration;

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
}

/// Builds the shared context from a Kubernetes client and the standard AWS configuration.
pub async fn context(kube: kube::Client, settings: &Settings) -> Arc<reconcile::Context> {
    let reporter = Reporter {
        controller: "personalize-operator".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let recorder = Recorder::new(kube.clone(), reporter);
    let aws = aws::Clients::from_env().await;
    let timing = outcome::Timing {
        poll: settings.poll,
        resync: settings.resync,
    };
    Arc::new(reconcile::Context::new(kube, aws, recorder, timing))
}

/// Runs the controllers until SIGTERM or ctrl-c.
pub async fn run(kube: kube::Client, settings: Settings) {
    let ctx = context(kube, &settings).await;
    controller::run(ctx, settings.namespace.as_deref()).await;
}
