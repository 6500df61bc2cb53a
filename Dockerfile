# syntax=docker/dockerfile:1

# Two runtime images from one build:
#   xrdp-host  debian:12-slim + Node 20 + xrdp: the host agent (compose `agent`, command
#              dist/src/app/agent-main.js) and the xrdp instances it runs; or, as
#              config/compose.all-in-one.yml does, the whole service running xrdp itself.
#              Root and a privileged container (sessions switch users, make accounts, run X).
#   api        distroless Node 20, non-root: every API replica (compose `api`, RDP_HOSTS=agents),
#              with no xrdp runtime.

# OCI image labels of both runtime images. VERSION follows package.json (a test checks it);
# REVISION is the commit: docker build --build-arg REVISION="$(git rev-parse HEAD)" ...
ARG VERSION=0.1.0
ARG REVISION=unknown

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci

FROM deps AS build
COPY . .
RUN npm run build && npm prune --omit=dev

FROM debian:12-slim AS xrdp-host
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="rdp-services-cluster-xrdp-host" \
  org.opencontainers.image.description="RDP Services Cluster: GraphQL control plane for xrdp servers, with xrdp to run them (root, privileged)" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.base.name="docker.io/library/debian:12-slim"
# xrdp with the Xvnc backend (as scripts/test-services.sh installs it), an xfce desktop (the
# default server desktop), openssl for per-instance TLS certificates, procps for pkill (ending a
# session user's processes), xprintidle for the input idle time of each desktop (IDLE_TIMEOUT);
# useradd/chpasswd/userdel come with the base image. A daemon started by
# the package scripts would leave pid files that make every later xrdp, --nodaemon included, refuse
# to start ("It looks like xrdp is already running"), hence the rm (the entrypoint repeats it).
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    xrdp xorgxrdp tigervnc-standalone-server \
    xfce4-session xfwm4 xfce4-panel xfdesktop4 xfce4-terminal dbus-x11 xterm \
    openssl ca-certificates procps xprintidle \
  && rm -rf /var/lib/apt/lists/* \
  && rm -f /run/xrdp/xrdp.pid /run/xrdp/xrdp-sesman.pid
# Node at the same path as in the distroless image, so one health check command fits both.
COPY --from=deps /usr/local/bin/node /nodejs/bin/node
RUN ln -s /nodejs/bin/node /usr/local/bin/node && node --version
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --chmod=755 scripts/xrdp-host-entrypoint.sh /usr/local/bin/xrdp-host-entrypoint
EXPOSE 8090 33890-33999
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:8090/health/live',{signal:AbortSignal.timeout(4000)}).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/xrdp-host-entrypoint"]
CMD ["dist/src/app/main.js"]

# No shell or package manager in the runtime image; node is its entrypoint.
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS api
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="rdp-services-cluster-api" \
  org.opencontainers.image.description="RDP Services Cluster: GraphQL control plane for xrdp servers, without xrdp (non-root)" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.base.name="gcr.io/distroless/nodejs20-debian12:nonroot"
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:8090/health/live',{signal:AbortSignal.timeout(4000)}).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
USER nonroot
CMD ["dist/src/app/main.js"]
