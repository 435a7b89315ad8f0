//! Conformance tests: the real AWS SDK clients (Rust, and boto3 through a Python script) drive
//! personalize-local over HTTP on 127.0.0.1:0; raw-HTTP protocol edge cases go through
//! `tower::ServiceExt::oneshot`; durability is checked by SIGKILLing the real binary.
//! One test binary for the crate (each links the AWS SDKs).

mod action_datasets;
mod batch;
mod bench;
mod boto3;
mod cold_items;
mod data_jobs;
mod errors;
mod every_operation;
mod lifecycle;
mod metric_attribution;
mod model_errors;
mod next_best_action;
mod promotions;
mod protocol;
mod recipes;
mod recommenders;
mod restart;
mod s3;
mod sigv4;
mod solution_fields;
mod support;
mod validation;
mod walkthrough;
