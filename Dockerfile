# Production image: gunicorn serving servicedesk.wsgi, static files collected at
# build time and served by WhiteNoise. The same image runs the Celery worker and
# beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=servicedesk.settings \
    VAR_DIR=/app/var \
    STATIC_MANIFEST=true \
    GUNICORN_WORKERS=3

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so this layer is rebuilt only when pyproject.toml changes.
# The project builds no package of its own ([tool.setuptools] packages = []):
# `pip install .` installs [project].dependencies.
COPY pyproject.toml ./
RUN pip install . && rm -rf build ./*.egg-info

# Source, owned by root and read-only for the app user; only VAR_DIR is writable.
COPY . .
RUN mkdir -p /app/var/media && chown -R app:app /app/var

USER 10001:10001

# Settings need a SECRET_KEY to load; this one exists only for this command.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
        python manage.py collectstatic --noinput \
    && rm -rf /app/var/celery /app/var/secret_key

EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn servicedesk.wsgi:application --bind 0.0.0.0:8000 --workers \"${GUNICORN_WORKERS}\" --access-logfile - --error-logfile -"]
