# syntax=docker/dockerfile:1
# The minime server in a small image; docker-compose.yml runs it next to PostgreSQL.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep downloaded crates and compiled dependencies from one build to the next; the
# binary is copied out because the target folder is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p minime-api \
    && cp target/release/minime /usr/local/bin/minime

FROM debian:bookworm-slim
# ca-certificates: for the https services minime calls (mail API and others).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 minime \
    && useradd --system --uid 10001 --gid minime --home-dir /var/lib/minime --shell /usr/sbin/nologin minime \
    && mkdir -p /var/lib/minime/mail \
    && chown -R minime:minime /var/lib/minime
COPY --from=build /usr/local/bin/minime /usr/local/bin/minime
USER 10001:10001
WORKDIR /var/lib/minime
ENV MINIME_LISTEN=0.0.0.0:8080 \
    MINIME_MAIL_DIR=/var/lib/minime/mail
EXPOSE 8080
# Given the superuser DATABASE_URL, migrations run first (they create the role the server logs in
# as); given only MINIME_APP_DATABASE_URL, the server starts as it is. The server is PID 1.
ENTRYPOINT ["sh", "-c", "if [ -n \"$DATABASE_URL\" ]; then minime migrate || exit 1; fi; exec minime serve"]
