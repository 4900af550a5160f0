# syntax=docker/dockerfile:1
# The gateway (aiohttp): WeChat endpoint, staff console, job runner. Python 3.11 and the pinned
# requirements/gateway.txt, the same environment `make install` builds as .venv-gateway.
# Build from the repository root:  docker build -f deploy/docker/gateway.Dockerfile -t zhinan-gateway .
# No secret is baked in: .dockerignore keeps .env out, and every setting comes from the environment
# (Kubernetes: ConfigMap zhinan-config + Secret zhinan-secrets, deploy/k8s/base).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app
# Dependencies first: this layer is rebuilt only when the pins change.
COPY requirements/gateway.txt requirements/gateway.txt
RUN pip install -r requirements/gateway.txt

# Only what the gateway reads at run time (bot/settings.py PROJECT_ROOT is /app).
COPY bot/ bot/
COPY data/ data/
COPY config/ config/
COPY deploy/docker/probe.py deploy/docker/probe.py

# A fixed numeric uid so that runAsNonRoot can verify it; it owns nothing it could rewrite.
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin zhinan
USER 10001:10001

ENV GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8080
EXPOSE 8080

# /healthz from loopback (passes MONITORING_ACCESS=loopback): healthy while Redis, Rasa and the
# action server answer. The Kubernetes probes ask less (deploy/k8s/base/gateway.yaml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "deploy/docker/probe.py", "http://127.0.0.1:8080/healthz"]

# The one place this image names the gateway's entry point (the manifests do not override it).
CMD ["python", "-m", "bot.gateway.main"]
