//! The local Kubernetes control plane for integration tests: started (or reused) through
//! `hack/kube/up.sh`, then handed out as a kubeconfig, `kube::Client`s and a `kubectl` command.
//! See the crate docs for who stops it.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Api, Client, Config};
use tokio::sync::OnceCell;

use crate::script::{self, ScriptError};

const UP_SCRIPT: &str = "hack/kube/up.sh";
/// Bounds each API call the testkit itself makes (readiness probe, namespace creation).
const API_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound for a whole `up.sh` run; long enough for a cold apiserver build.
const UP_TIMEOUT: Duration = Duration::from_secs(1800);
/// Label put on every namespace the testkit creates.
pub const CREATED_BY_LABEL: (&str, &str) = ("app.kubernetes.io/created-by", "personalize-testkit");

static SHARED: OnceCell<ControlPlane> = OnceCell::const_new();
static NAMESPACE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A control plane step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `hack/kube/up.sh` failed or timed out.
    #[error("starting the control plane with {UP_SCRIPT}")]
    Up(#[source] ScriptError),
    /// The kubeconfig could not be read or turned into a client configuration.
    #[error("loading kubeconfig {path}")]
    LoadKubeconfig {
        path: PathBuf,
        source: KubeconfigError,
    },
    /// A client could not be built from the kubeconfig.
    #[error("building a kube client from {path}")]
    BuildClient { path: PathBuf, source: kube::Error },
    /// The reused control plane did not answer `/version`.
    #[error("control plane {server} (from {path}) did not answer /version")]
    Probe {
        server: String,
        path: PathBuf,
        source: kube::Error,
    },
    /// An API call of the testkit did not finish in time.
    #[error("{what} did not finish within {API_TIMEOUT:?}")]
    Timeout { what: String },
    /// Creating a test namespace failed.
    #[error("creating namespace {name}")]
    CreateNamespace { name: String, source: kube::Error },
}

/// Where the running control plane came from, which decides who stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Started by this test process; stopped by the watchdog when the process exits.
    Owned,
    /// Started by someone else (`PO_KUBE_STATE` or `KUBECONFIG`); never stopped by the testkit.
    Reused,
}

/// A running local control plane (kube-apiserver + embedded etcd on 127.0.0.1).
#[derive(Debug)]
pub struct ControlPlane {
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    config: Config,
    server_version: String,
    origin: Origin,
}

impl ControlPlane {
    /// The control plane shared by all tests of this process: started on first use, or reused
    /// when `PO_KUBE_STATE` or a loopback `KUBECONFIG` points at one (see the crate docs).
    pub async fn shared() -> Result<&'static ControlPlane, Error> {
        SHARED.get_or_try_init(Self::start_or_reuse).await
    }

    async fn start_or_reuse() -> Result<ControlPlane, Error> {
        if let Some(state) = script::env_nonempty("PO_KUBE_STATE") {
            let state = Self::up(vec![state]).await?;
            return Self::from_state_dir(&state, Origin::Reused).await;
        }
        if let Some(kubeconfig) = script::env_nonempty("KUBECONFIG")
            && let Some(reused) = Self::reuse_kubeconfig(PathBuf::from(kubeconfig)).await?
        {
            return Ok(reused);
        }
        let owner = std::process::id().to_string();
        let dir = script::owned_state_dir("kube");
        let state = Self::up(vec!["--owner-pid".into(), owner.into(), dir.into()]).await?;
        Self::from_state_dir(&state, Origin::Owned).await
    }

    async fn up(args: Vec<OsString>) -> Result<PathBuf, Error> {
        let timeout = script::env_timeout("PO_TESTKIT_UP_TIMEOUT", UP_TIMEOUT);
        let state = script::run(UP_SCRIPT, &args, timeout)
            .await
            .map_err(Error::Up)?;
        Ok(PathBuf::from(state))
    }

    async fn from_state_dir(state: &Path, origin: Origin) -> Result<ControlPlane, Error> {
        let kubectl = state.join("bin/kubectl");
        Self::connect(state.join("kubeconfig"), kubectl, origin).await
    }

    /// Reuses the cluster of a single-file `KUBECONFIG` if it is on loopback; `None` otherwise.
    async fn reuse_kubeconfig(path: PathBuf) -> Result<Option<ControlPlane>, Error> {
        if path.to_string_lossy().contains(':') {
            eprintln!("testkit: KUBECONFIG lists several files; starting a private control plane");
            return Ok(None);
        }
        let config = load_config(&path).await?;
        if !is_loopback(config.cluster_url.host()) {
            eprintln!(
                "testkit: KUBECONFIG points at {}, not loopback; starting a private control plane",
                config.cluster_url
            );
            return Ok(None);
        }
        // A kubeconfig written by up.sh sits next to bin/kubectl; otherwise use PATH's kubectl.
        let kubectl = path
            .parent()
            .map(|dir| dir.join("bin/kubectl"))
            .filter(|kubectl| kubectl.is_file())
            .unwrap_or_else(|| PathBuf::from("kubectl"));
        Self::connect(path, kubectl, Origin::Reused).await.map(Some)
    }

    async fn connect(
        kubeconfig: PathBuf,
        kubectl: PathBuf,
        origin: Origin,
    ) -> Result<ControlPlane, Error> {
        let config = load_config(&kubeconfig).await?;
        let client = Client::try_from(config.clone()).map_err(|source| Error::BuildClient {
            path: kubeconfig.clone(),
            source,
        })?;
        let info = tokio::time::timeout(API_TIMEOUT, client.apiserver_version())
            .await
            .map_err(|_elapsed| Error::Timeout {
                what: format!("GET {}/version", config.cluster_url),
            })?
            .map_err(|source| Error::Probe {
                server: config.cluster_url.to_string(),
                path: kubeconfig.clone(),
                source,
            })?;
        eprintln!(
            "testkit: control plane {} ({}, {origin:?}), kubeconfig {}",
            config.cluster_url,
            info.git_version,
            kubeconfig.display()
        );
        Ok(ControlPlane {
            kubeconfig,
            kubectl,
            config,
            server_version: info.git_version,
            origin,
        })
    }

    /// A new client for the current async runtime. Make one per test: a client is tied to the
    /// runtime it was created on, and every `#[tokio::test]` has its own.
    pub fn client(&self) -> Client {
        Client::try_from(self.config.clone())
            .expect("the same config already built a working client in ControlPlane::shared")
    }

    /// The kubeconfig (server, CA, admin token) that kubectl and kube-rs both read.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// The server's version as reported by `/version`, e.g. `v1.35.4`.
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// Whether this process started the control plane or reused someone else's.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// `kubectl --kubeconfig <ours>` with the kubectl built next to the apiserver; add
    /// arguments and run it. Bound its run time yourself if it can wait (`--timeout`).
    pub fn kubectl(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.kubectl);
        command.arg("--kubeconfig").arg(&self.kubeconfig);
        command.env_remove("KUBECONFIG");
        command
    }

    /// Creates a namespace named `<prefix>-<unique suffix>` and returns its name. Namespaces are
    /// never deleted (no namespace controller runs), so uniqueness is what isolates tests.
    pub async fn create_namespace(&self, prefix: &str) -> Result<String, Error> {
        let name = unique_namespace_name(prefix);
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(
                    [(CREATED_BY_LABEL.0.to_owned(), CREATED_BY_LABEL.1.to_owned())].into(),
                ),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        let api: Api<Namespace> = Api::all(self.client());
        tokio::time::timeout(API_TIMEOUT, api.create(&PostParams::default(), &namespace))
            .await
            .map_err(|_elapsed| Error::Timeout {
                what: format!("creating namespace {name}"),
            })?
            .map_err(|source| Error::CreateNamespace {
                name: name.clone(),
                source,
            })?;
        Ok(name)
    }
}

async fn load_config(path: &Path) -> Result<Config, Error> {
    let load = async {
        let kubeconfig = Kubeconfig::read_from(path)?;
        Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await
    };
    load.await.map_err(|source| Error::LoadKubeconfig {
        path: path.to_owned(),
        source,
    })
}

/// Whether a server URL's host (`Uri::host`, IPv6 in brackets) is a loopback address.
fn is_loopback(host: Option<&str>) -> bool {
    match host {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// `<prefix>-<pid><time>-<n>`: a valid DNS-1123 label, unique across processes and runs.
fn unique_namespace_name(prefix: &str) -> String {
    let mut prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    prefix = prefix.trim_matches('-').to_owned();
    if prefix.is_empty() {
        prefix.push_str("test");
    }
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() & 0xff_ffff);
    let n = NAMESPACE_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{:x}{micros:06x}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_names_are_dns_labels_and_unique() {
        let a = unique_namespace_name("My_Test::case");
        let b = unique_namespace_name("My_Test::case");
        assert_ne!(a, b);
        assert!(a.starts_with("my-test--case-"), "{a}");
        assert!(a.len() <= 63);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert!(unique_namespace_name("--").starts_with("test-"));
        assert!(unique_namespace_name(&"x".repeat(100)).len() <= 63);
    }

    #[test]
    fn only_loopback_servers_are_reused() {
        assert!(is_loopback(Some("127.0.0.1")));
        assert!(is_loopback(Some("localhost")));
        assert!(is_loopback(Some("[::1]")));
        assert!(!is_loopback(Some("10.0.0.1")));
        assert!(!is_loopback(Some("example.com")));
        assert!(!is_loopback(None));
    }
}
