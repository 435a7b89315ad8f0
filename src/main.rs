//! `personalize-operator`: `run` reconciles the custom resources; `crd` prints or writes the CRDs.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

/// Kubernetes operator for Amazon Personalize.
#[derive(Parser, Debug)]
#[command(name = "personalize-operator", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the controllers (Kubernetes config from the cluster or KUBECONFIG; AWS from the
    /// standard chain and AWS_ENDPOINT_URL*).
    Run {
        /// Watch only this namespace (default: all).
        #[arg(long, env = "WATCH_NAMESPACE")]
        namespace: Option<String>,
        /// Seconds between polls while Personalize is mid-transition.
        #[arg(long, env = "POLL_SECONDS", default_value_t = 5)]
        poll_seconds: u64,
        /// Seconds between resyncs once everything is ACTIVE.
        #[arg(long, env = "RESYNC_SECONDS", default_value_t = 600)]
        resync_seconds: u64,
        /// Log format.
        #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Serve /healthz, /readyz and Prometheus /metrics on this address ("off": not at all).
        #[arg(long, env = "HTTP_ADDRESS", default_value = "127.0.0.1:8080")]
        http_address: String,
        /// Elect a leader through a Lease so that only one replica reconciles.
        #[arg(long, env = "LEADER_ELECT", default_value_t = true, action = clap::ArgAction::Set,
              num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        leader_elect: bool,
        /// The leader Lease's name.
        #[arg(long, env = "LEASE_NAME", default_value = "personalize-operator")]
        lease_name: String,
        /// The leader Lease's namespace (default: the pod's, else the kubeconfig's, else default).
        #[arg(long, env = "POD_NAMESPACE")]
        lease_namespace: Option<String>,
        /// The leader Lease's duration: how long a failed leader blocks a standby.
        #[arg(long, env = "LEASE_DURATION_SECONDS", default_value_t = 15)]
        lease_duration_seconds: u64,
    },
    /// Print the CustomResourceDefinitions as YAML, or write one file per kind to a directory.
    Crd {
        /// Write `<crd name>.yaml` files here instead of printing to stdout.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Crd { out_dir } => write_crds(out_dir),
        Command::Run {
            namespace,
            poll_seconds,
            resync_seconds,
            log_format,
            http_address,
            leader_elect,
            lease_name,
            lease_namespace,
            lease_duration_seconds,
        } => {
            init_logs(log_format);
            let kube = kube::Client::try_default()
                .await
                .context("connecting to Kubernetes")?;
            let http_address = match http_address.as_str() {
                "off" | "" => None,
                address => Some(
                    address
                        .parse()
                        .with_context(|| format!("--http-address {address}"))?,
                ),
            };
            let election = leader_elect.then(|| personalize_operator::leader::Election {
                namespace: lease_namespace.unwrap_or_else(|| kube.default_namespace().to_owned()),
                name: lease_name,
                identity: personalize_operator::leader::default_identity(),
                lease_duration: Duration::from_secs(lease_duration_seconds),
            });
            let settings = personalize_operator::Settings {
                namespace,
                poll: Duration::from_secs(poll_seconds),
                resync: Duration::from_secs(resync_seconds),
                http_address,
                election,
            };
            tracing::info!(?settings, "starting personalize-operator");
            personalize_operator::run(kube, settings).await
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,kube=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn write_crds(out_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let files = personalize_api::crd_files().context("serialising the CRDs")?;
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, yaml) in files {
                let path = dir.join(name);
                std::fs::write(&path, yaml)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        None => {
            let docs: Vec<String> = files.into_iter().map(|(_, yaml)| yaml).collect();
            print!("{}", docs.join("---\n"));
        }
    }
    Ok(())
}
