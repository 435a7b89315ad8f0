//! The local moto server (fake Kinesis, S3 and CloudWatch) for integration tests: started (or reused)
//! through `hack/moto/up.sh`, handed out as an endpoint URL plus the env an AWS client needs.
//! See the crate docs for who stops it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::script::{self, ScriptError};

const UP_SCRIPT: &str = "hack/moto/up.sh";
/// Default bound for a whole `up.sh` run; long enough to create the Python venv once.
const UP_TIMEOUT: Duration = Duration::from_secs(600);
/// The static access key id moto accepts (it checks no signatures).
pub const ACCESS_KEY_ID: &str = "test";
/// The static secret access key matching [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "test";
/// The region every test client uses.
pub const REGION: &str = "us-east-1";

static SHARED: OnceCell<Moto> = OnceCell::const_new();

/// A moto step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `hack/moto/up.sh` failed or timed out.
    #[error("starting moto with {UP_SCRIPT}")]
    Up(#[source] ScriptError),
    /// `up.sh` succeeded but its endpoint file could not be read.
    #[error("reading the moto endpoint from {path}")]
    ReadEndpoint {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A running moto server on 127.0.0.1.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    state_dir: PathBuf,
}

impl Moto {
    /// The moto server shared by all tests of this process: started on first use (and stopped
    /// when the process exits), or reused when `PO_MOTO_STATE` names a `hack/moto/up.sh` state
    /// dir. moto keeps state in memory, so give streams and buckets unique names per test.
    pub async fn shared() -> Result<&'static Moto, Error> {
        SHARED.get_or_try_init(Self::start_or_reuse).await
    }

    async fn start_or_reuse() -> Result<Moto, Error> {
        let args: Vec<OsString> = match script::env_nonempty("PO_MOTO_STATE") {
            Some(state) => vec![state],
            None => vec![
                "--owner-pid".into(),
                std::process::id().to_string().into(),
                script::owned_state_dir("moto").into(),
            ],
        };
        let timeout = script::env_timeout("PO_TESTKIT_UP_TIMEOUT", UP_TIMEOUT);
        let state_dir = PathBuf::from(
            script::run(UP_SCRIPT, &args, timeout)
                .await
                .map_err(Error::Up)?,
        );
        let path = state_dir.join("endpoint");
        let endpoint = tokio::fs::read_to_string(&path)
            .await
            .map_err(|source| Error::ReadEndpoint { path, source })?
            .trim()
            .to_owned();
        eprintln!("testkit: moto at {endpoint}");
        Ok(Moto {
            endpoint,
            state_dir,
        })
    }

    /// The endpoint URL, `http://127.0.0.1:<port>`, for Kinesis, S3 and CloudWatch alike.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The state dir of `hack/moto/up.sh` (log, pid, `env` file).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The environment an AWS SDK or CLI needs to talk to this server: service endpoints,
    /// static credentials and region. S3 clients must also use path-style addressing.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_KINESIS", self.endpoint.clone()),
            ("AWS_ENDPOINT_URL_S3", self.endpoint.clone()),
            ("AWS_ENDPOINT_URL_CLOUDWATCH", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
        ]
    }

    /// The AWS CLI from the same venv as moto, with [`Moto::env`] applied and no profile or
    /// config file of the user's leaking in. Add arguments (`kinesis list-streams`) and run it.
    pub fn aws_cli(&self) -> std::process::Command {
        let mut command = std::process::Command::new(self.state_dir.join("venv/bin/aws"));
        command
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .envs(self.env());
        command
    }
}
