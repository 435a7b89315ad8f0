//! personalize-local: an Amazon Personalize-compatible server (control plane over AWS JSON 1.1,
//! events and runtime over REST JSON) on one loopback port, with durable storage, built on
//! `personalize-engine` (reached only through `resources/training.rs` and `resources/serving.rs`).
//!
//! Three layers, each importing only those below it:
//! - [`wire`]: decoding, encoding, the AWS error shape, paging, SigV4, metrics, fault injection;
//! - [`store`] (in-memory state and its durable journal) and [`resources`] (one module per
//!   Personalize resource, built on the store and the wire layer);
//! - [`router`]: the HTTP routes and the per-request pipeline on top.
//!
//! [`app`] builds the axum router from an [`AppState`] (testable without a socket); [`serve`] binds
//! and runs it. The AWS SDKs are dev-dependencies only: they are the conformance oracle.

pub mod config;
pub mod resources;
pub mod router;
pub mod store;
pub mod wire;

use std::net::SocketAddr;

pub use config::Config;
pub use resources::resume;
pub use resources::state::{AppState, OpenError, Shared, open};

/// The router for all three services plus `/health` and `/metrics`.
pub fn app(state: AppState) -> axum::Router {
    router::router(state)
}

/// Binds `config.listen`, runs until `shutdown` resolves. Returns the bound address through
/// `bound` as soon as it is known.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    resume(&state);
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A server running in the background on `config.listen` (port 0 picks one), for tests.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Starts a server inside the current tokio runtime.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        config.check_exposure()?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = open(config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(state.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Ok(Running {
            addr,
            state,
            stop: Some(stop),
            task,
        })
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await??;
        Ok(())
    }
}
