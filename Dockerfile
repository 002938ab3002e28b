# Lodestar as a container, for docker-compose.yml (or any orchestrator): the app is
# stateless and needs LODESTAR_DATABASE_URL pointing at a PostgreSQL server (>= 14).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LODESTAR_ENVIRONMENT=production \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY service ./service
COPY schema ./schema
COPY migrations ./migrations
RUN pip install -c requirements.lock . \
    && useradd --system --uid 10001 --home-dir /app lodestar

USER lodestar
EXPOSE 8000
# Migrates the database (under an advisory lock, so replicas may start together), then serves.
CMD ["lodestar", "serve", "--host", "0.0.0.0", "--port", "8000"]
