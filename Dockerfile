# The app image: `kb serve` on port 8000, installed from the lock file (no torch: the default embedder
# is numpy only). The data dir (/data) holds only derived indexes when KB_DATABASE_URL points at PostgreSQL.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 KB_DATA_DIR=/data
# One BLAS/OpenMP thread per pool for every Python process of the image (`kb` also sets these from
# KB_NATIVE_THREADS before numpy loads): concurrent requests use the cores, more threads oversubscribe them.
ENV KB_NATIVE_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY kb kb
COPY ingest ingest
COPY web web
COPY cli cli
COPY templates templates
RUN pip install --no-deps . && useradd --create-home kb && mkdir -p /data && chown kb /data
USER kb
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["kb", "serve", "--host", "0.0.0.0", "--port", "8000"]
