# syntax=docker/dockerfile:1
# dr-gitops as a container: `dr-gitops serve` by default.
#
#   docker build -t dr-gitops .
#   docker run --rm -p 8080:8080 -e DATAROBOT_ENDPOINT -e DATAROBOT_API_TOKEN \
#     dr-gitops serve --listen 0.0.0.0:8080 --repo https://github.com/acme/models.git --ref main
#
# Two stages: the first builds the dr-gitops wheel, the second installs it with its runtime
# dependencies only (no test or emulator extras) next to git, and runs as a non-root user.
# The build needs no network besides the package registries (PyPI, Debian).
#
# The schemas the controller validates with are package data in controller/schemas/ (a
# real copy of the top-level schemas/, kept equal by a test), so copying controller/ is
# enough. The tests have no container engine that can pull base images, so they prove this
# file by building the wheel from exactly what the build stage COPYs (tests/packaging reads
# the COPY lines and .dockerignore), installing it into a clean virtualenv and running
# `dr-gitops --version`, `validate` and `plan` from it.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY controller ./controller
COPY emulator ./emulator
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM ${PYTHON_IMAGE} AS runtime
# git: the controller shells out to it; openssh-client: for ssh:// and git@ remotes.
# safe.directory: a repository mounted at /repo belongs to the host's user, not to 10001, and
# git refuses to read a repository another user owns unless told it is trusted.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory /repo
RUN groupadd --gid 10001 dr-gitops \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/dr-gitops \
       --shell /usr/sbin/nologin dr-gitops \
    && mkdir -p /repo /var/cache/dr-gitops /var/lib/dr-gitops \
    && chown dr-gitops:dr-gitops /repo /var/cache/dr-gitops /var/lib/dr-gitops
COPY --from=build /dist/ /tmp/dist/
# The runtime dependencies at the versions the tests passed with (see constraints.txt).
COPY constraints.txt /tmp/constraints.txt
RUN python -m pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/*.whl \
    && rm -rf /tmp/dist /tmp/constraints.txt

# DR_GITOPS_HEALTHCHECK_URL: what HEALTHCHECK asks; with --probe-listen, point it there
# (deploy/docker-compose.yaml does).
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_CACHE_HOME=/var/cache/dr-gitops \
    XDG_STATE_HOME=/var/lib/dr-gitops \
    DR_GITOPS_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz

USER 10001:10001
# Without arguments, a repository mounted at /repo is served (read as it is at each run;
# give --repo URL to have the controller clone and fetch it itself).
WORKDIR /repo
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['DR_GITOPS_HEALTHCHECK_URL'], timeout=4)"]
ENTRYPOINT ["dr-gitops"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--repo", "/repo"]
