//! Integration tests of personalize-ingest against moto (Kinesis), personalize-local (or a tiny
//! recording PutEvents fake) and the real kube-apiserver. One test binary: each links the SDKs.

mod ingest {
    pub mod attribution;
    pub mod bench;
    pub mod crash;
    pub mod dead_letter;
    pub mod e2e;
    pub mod fake_kinesis;
    pub mod gateway;
    pub mod leases;
    pub mod reshard;
    pub mod split;
    pub mod support;
}
