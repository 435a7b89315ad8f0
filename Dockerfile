# syntax=docker/dockerfile:1
# Multi-stage build of the project's three binaries, one small non-root image per binary:
#   docker build --target operator -t personalize-operator:0.1.0 .   (the default target)
#   docker build --target ingest   -t personalize-ingest:0.1.0 .     (sidecar `run` and `gateway`)
#   docker build --target local    -t personalize-local:0.1.0 .      (Personalize-compatible server)
# Needs BuildKit (cache mounts keep cargo's registry and target dir between builds). The final
# images are distroless (glibc, libgcc, CA certificates; no shell) and run as uid 65532.

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
# One build for the three binaries (they share most dependencies); copied out of the cache mount.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked \
      -p personalize-operator -p personalize-ingest -p personalize-local --bins \
 && install -D -m 0755 -t /out \
      target/release/personalize-operator \
      target/release/personalize-ingest \
      target/release/personalize-local \
 && mkdir -p /out/data

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="personalize-operator" \
      org.opencontainers.image.description="Kubernetes operator for Amazon Personalize" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
USER 65532:65532

FROM runtime AS local
COPY --from=builder /out/personalize-local /usr/local/bin/personalize-local
# Listen on all interfaces inside the container; the journal and models go to /data (owned by
# the non-root user; mount a volume there to keep them across restarts). Beyond loopback
# personalize-local wants signed requests (--verify-sigv4 --credential KEY:SECRET) or an explicit
# opt-out: the image opts out, since only the ports it is run with reach it; set
# PERSONALIZE_LOCAL_ALLOW_UNAUTHENTICATED_REMOTE=false and pass the flags to require signatures.
COPY --from=builder --chown=65532:65532 /out/data /data
ENV PERSONALIZE_LOCAL_LISTEN=0.0.0.0:8089 \
    PERSONALIZE_LOCAL_DATA_DIR=/data \
    PERSONALIZE_LOCAL_ALLOW_UNAUTHENTICATED_REMOTE=true
EXPOSE 8089
ENTRYPOINT ["/usr/local/bin/personalize-local"]

FROM runtime AS ingest
COPY --from=builder /out/personalize-ingest /usr/local/bin/personalize-ingest
# 8081: the sidecar's /healthz, /readyz, /metrics; 8080: the gateway.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/personalize-ingest"]

FROM runtime AS operator
COPY --from=builder /out/personalize-operator /usr/local/bin/personalize-operator
# /healthz, /readyz and /metrics (the chart passes --http-address 0.0.0.0:8080).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/personalize-operator"]
CMD ["run"]
