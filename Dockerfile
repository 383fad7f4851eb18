# One image for the gateway and the workers: docker-compose.yml picks the role with `command`
# (node dist/api/main.js or node dist/worker/main.js).

# The full bookworm image builds, the slim one runs: the same Debian release and glibc, so the native
# modules installed here (sharp, onnxruntime-node, msgpackr-extract) load in the runtime stage, and the
# compilers are at hand if a dependency has no prebuilt binary and falls back to building one.
FROM node:20-bookworm AS build
WORKDIR /app

# .npmrc carries onnxruntime-node-install=skip; without it, npm 10 (this image's) runs onnxruntime-node's
# install script, which downloads CUDA binaries the CPU-only service never loads.
# ONNXRUNTIME_NODE_INSTALL=cuda12 fetches onnxruntime's CUDA provider for INFERENCE_PROVIDER=cuda (the
# runtime stage then needs a base with the CUDA 12 runtime and cuDNN 9); the default skips it.
ARG ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --onnxruntime-node-install="$ONNXRUNTIME_NODE_INSTALL"

# Its own layer, keyed on the manifest and the context's models/: code changes do not fetch the model
# again. The script takes each file the manifest names from the build context's models/ when it is there
# (after `npm run models`, or placed by hand where the upstream is unreachable), else downloads it; either
# way it checks the SHA-256 pinned in the manifest and exits non-zero on a mismatch, which fails the build.
# A bind mount, not a COPY: nothing else in models/ (a research-only model, say) can reach the image.
COPY models/manifest.json models/
COPY scripts/fetch-models.mjs scripts/
RUN --mount=type=bind,source=models,target=/tmp/context/models \
  SHARED_DIR=/tmp/context node scripts/fetch-models.mjs

COPY tsconfig.json ./
COPY api api
COPY worker worker
COPY shared shared
COPY standalone standalone
# onnxruntime-node ships its native library for every OS and CPU (about 250 MB); only this platform's
# is ever loaded. api/public (the try-it page) is served from the source tree at run time, not from dist/.
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && for dir in node_modules/onnxruntime-node/bin/napi-v*/*/*; do \
       case "$dir" in */linux/"$(node -p process.arch)") ;; *) rm -rf "$dir" ;; esac; \
     done

FROM node:20-bookworm-slim AS runtime
# Debian's ffmpeg rather than the npm-bundled static build: it gets security updates with the base image,
# and the app finds it on PATH (FFMPEG_PATH/FFPROBE_PATH name it explicitly).
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
  FFMPEG_PATH=/usr/bin/ffmpeg \
  FFPROBE_PATH=/usr/bin/ffprobe
WORKDIR /app

# Owned by root (COPY's default): the app user reads its code and model but cannot rewrite them. data/
# (local crops when S3 is not configured) is the one folder it may write.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/models models
COPY --from=build /app/api/public api/public
RUN mkdir -p data && chown node:node data

USER node
# 3000: the gateway (PORT); 9100: a worker's /metrics and /healthz (WORKER_METRICS_PORT).
EXPOSE 3000 9100
CMD ["node", "dist/api/main.js"]
