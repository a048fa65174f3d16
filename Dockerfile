# syntax=docker/dockerfile:1
# Two stages: build wheels with the compiler toolchain, run on a slim image as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# tini reaps zombies and forwards SIGTERM so running jobs get their grace period.
# fonts-noto-cjk draws Chinese and Japanese names and text on gallery pages, cards and the
# usage chart, with each reader's glyph shapes (its JP, SC and TC faces) and a real bold.
# Debian security updates replace package versions, so pinning them would break rebuilds.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 bot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV DATA_DIR=/data \
    PYTHONUNBUFFERED=1
RUN mkdir -p /data && chown bot:bot /data
VOLUME ["/data"]
USER 10001
WORKDIR /home/bot
# Healthy = gateway connected, event loop responsive (a fresh heartbeat) and the database
# answering; the start period covers logging in and the first command sync.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "bot"]
