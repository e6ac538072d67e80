# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 JAMONO_DATA_DIR=/data
WORKDIR /app

COPY pyproject.toml README.md ./
COPY jamono ./jamono
COPY apps ./apps
RUN pip install --no-cache-dir .
COPY . .

RUN useradd --create-home jamono && mkdir -p /data && chown jamono /data
USER jamono
EXPOSE 8000
CMD ["python", "-m", "uvicorn", "jamono.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
