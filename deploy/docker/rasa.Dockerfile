# syntax=docker/dockerfile:1
# Rasa's environment (Python 3.10, pyproject.toml + constraints.txt), used by two processes:
# Rasa serving the trained model, and the action server. The manifests choose the process
# (deploy/k8s/base/rasa.yaml, actions.yaml: `command`), so this image has no CMD of its own.
# Build from the repository root after `make train` (the model is baked in, read-only):
#   docker build -f deploy/docker/rasa.Dockerfile -t zhinan-rasa .
# No secret is baked in: .dockerignore keeps .env out; endpoints.yml reads its secrets from the
# environment at start.
FROM python:3.10-slim-bookworm

# One thread each for TensorFlow and BLAS, as bot/stack.py's rasa_environment sets them on a single
# host (measured: the default pools spin on every core); Rasa's telemetry off, it has no way out.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    HOME=/tmp \
    TF_CPP_MIN_LOG_LEVEL=2 \
    OMP_NUM_THREADS=1 \
    TF_NUM_INTRAOP_THREADS=1 \
    TF_NUM_INTEROP_THREADS=1 \
    RASA_TELEMETRY_ENABLED=false

WORKDIR /app
# Dependencies first, from the project's own pins. Empty packages stand in for bot/ and actions/
# so that this layer does not change with the code; the stand-in project is removed again and the
# code runs from /app (PYTHONPATH), where bot/settings.py finds data/ and config/.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir -p bot actions && touch bot/__init__.py actions/__init__.py \
    && pip install -c constraints.txt . \
    && pip uninstall -y zhinan \
    && rm -rf bot actions build *.egg-info

COPY bot/ bot/
COPY actions/ actions/
COPY data/ data/
COPY config/ config/
COPY nlu_data/jieba/ nlu_data/jieba/
COPY config.yml domain.yml endpoints.yml credentials.yml ./
COPY models/zhinan.tar.gz models/zhinan.tar.gz
COPY deploy/docker/probe.py deploy/docker/probe.py

RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin zhinan
USER 10001:10001

EXPOSE 5005 5055

# Either process: Rasa answers GET / once the model is loaded, the action server GET /health.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "deploy/docker/probe.py", "http://127.0.0.1:5005/", "http://127.0.0.1:5055/health"]
