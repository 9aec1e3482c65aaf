# One image holds every Salesync binary; each container runs one of them
# (docker-compose.yml, Kubernetes). Build: docker build -t salesync .
FROM rust:1.95-bookworm AS build
# npm: the router's build fetches the playground's GraphiQL bundle (router/build.rs).
RUN apt-get update && apt-get install -y --no-install-recommends cmake nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --bins \
 && mkdir /out \
 && find target/release -maxdepth 1 -type f -executable -name 'salesync*' -exec cp {} /out/ \;

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 salesync \
 && mkdir -p /var/lib/salesync && chown salesync /var/lib/salesync
COPY --from=build /out/ /usr/local/bin/
# The router finds the supergraph relative to its config: ../schema/.
COPY router/router.config.yaml /etc/salesync/router/router.config.yaml
COPY schema/supergraph.graphql /etc/salesync/schema/supergraph.graphql
# The front end's operations, for ROUTER_PERSISTED_DOCUMENTS=true: ../web/.
COPY web/persisted-documents.json /etc/salesync/web/persisted-documents.json
ENV ROUTER_CONFIG_FILE_PATH=/etc/salesync/router/router.config.yaml \
    SALESYNC_HOST=0.0.0.0 \
    ROUTER_HOST=0.0.0.0 \
    SALESYNC_LOG_FORMAT=json \
    SALESYNC_DATA_DIR=/var/lib/salesync
USER salesync
