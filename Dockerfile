FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --require-hashes -r requirements/base.txt
COPY . .
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
      --settings=origami.settings.production
# /sandbox is where the compose file mounts the sandbox's state (its generated key included).
RUN useradd --create-home origami && mkdir -p /app/var /sandbox && chown -R origami /app/var /sandbox
USER origami
EXPOSE 8000
# gunicorn.conf.py: bind, workers, and an access log that never records query strings.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "origami.wsgi:application"]
