# Multi-stage build: a release binary on a small, non-root runtime image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p bedrock-gateway \
 && strip target/release/bedrock-gateway

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/bedrock-gateway /usr/local/bin/bedrock-gateway
USER nonroot:nonroot
EXPOSE 3000
ENV BEDROCK_GATEWAY_LISTEN=0.0.0.0:3000
ENTRYPOINT ["/usr/local/bin/bedrock-gateway"]
