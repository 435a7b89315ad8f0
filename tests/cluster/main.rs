//! Integration tests against a real kube-apiserver (started by personalize-testkit).
//! One test binary for the operator crate: each module is one area.

mod adopt;
mod crds;
mod events_config;
mod filter;
mod harness;
mod jobs;
mod leader;
mod metric_attribution;
mod observe;
mod operator;
mod pause;
mod recommender;
mod rollout;
mod scale;
