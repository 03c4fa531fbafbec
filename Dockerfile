# ExE Access: exe-accessd image (Debian 12).
#
#   docker build -t exe-access:local .
#   docker run --rm -p 7400:7400 exe-access:local          # embedded default
#   docker run --rm -p 7400:7400 \
#     -e EXE_ACCESS_DATABASE_URL=postgresql://USER:PASSWORD@HOST/exe_access \
#     -e EXE_ACCESS_HASH_KEY_FILE=/run/secrets/hash.key \
#     -e EXE_ACCESS_ACTIVITY_KEY_FILE=/run/secrets/activity.key \
#     -v "$PWD/hash.key:/run/secrets/hash.key:ro" \
#     -v "$PWD/activity.key:/run/secrets/activity.key:ro" exe-access:local
#
# Package names come from tools/deps.sh only; see deploy/README.md.

# --- build -------------------------------------------------------------------
FROM debian:bookworm-slim AS build

WORKDIR /src
# The package step first, on its own, so editing the sources keeps its layer.
COPY tools/deps.sh tools/deps.sh
RUN sh tools/deps.sh build

COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEXE_BUILD_TESTS=OFF \
 && cmake --build build --parallel "$(nproc)" \
 && cmake --install build --prefix /opt/exe-access

# --- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim

COPY tools/deps.sh /tmp/deps.sh
# Runtime libraries and the PostgreSQL server (for the embedded default).
# Installing postgresql makes Debian create a cluster "main" that nothing
# here uses: drop it. Then clean the apt lists, and add the service account
# with a fixed numeric id (Kubernetes' runAsNonRoot needs a numeric USER).
RUN sh /tmp/deps.sh runtime \
 && pg_lsclusters -h | while read -r version cluster _; do \
        pg_dropcluster --stop "$version" "$cluster"; \
    done \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /tmp/deps.sh \
 && groupadd --gid 10001 exeaccess \
 && useradd --no-log-init --uid 10001 --gid exeaccess \
        --home-dir /var/lib/exe-access --shell /usr/sbin/nologin exeaccess \
 && install -d -o exeaccess -g exeaccess -m 0750 /var/lib/exe-access

COPY --from=build /opt/exe-access /opt/exe-access

# EXE_ACCESS_DATA_DIR is used only by the embedded default (no
# EXE_ACCESS_DATABASE_URL): mount a volume there to keep its data.
ENV PATH=/opt/exe-access/sbin:$PATH \
    EXE_ACCESS_LISTEN=tcp://0.0.0.0:7400 \
    EXE_ACCESS_DATA_DIR=/var/lib/exe-access

USER 10001:10001
WORKDIR /var/lib/exe-access
EXPOSE 7400

# No HTTP health endpoint yet: healthy = something accepts a TCP connection
# on 127.0.0.1 at the port of the first tcp:// URL in EXE_ACCESS_LISTEN. The
# daemon listens only after its database is reachable and migrated, so a
# start-up is reported as healthy only once it can serve.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "IFS=,; for u in ${EXE_ACCESS_LISTEN:-tcp://127.0.0.1:7400}; do case $u in tcp*://*:*) : 3<>/dev/tcp/127.0.0.1/${u##*:}; exit;; esac; done; exit 1"]

# SIGTERM drains in-flight requests (--drain-timeout-ms, 10 s by default)
# and exits 0: give `docker stop` more than that (-t 20).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/exe-access/sbin/exe-accessd"]
