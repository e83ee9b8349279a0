# Image for the worker and the ingress (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app app
COPY ingress ingress
RUN pip install --no-cache-dir .
ENV CSM_INGRESS_HOST=0.0.0.0
