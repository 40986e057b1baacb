# hivecord: runs `hivecord run` as a non-root user; all state lives in the /data volume.
#
#   docker build -t hivecord .
#   docker run -d -e DISCORD_TOKEN=... -e HIVECORD_HIVE__COMMUNITIES=hive-158489 \
#       -v hivecord-data:/data hivecord
#
# A first start on an empty /data works: with no /data/config.toml, hivecord runs on its built-in
# defaults (the values config.example.toml shows) and any HIVECORD_SECTION__KEY variables, and
# creates /data/hivecord.sqlite3. To use a file instead, put config.toml in /data (a copy of the
# example, which is also in the image: docker run --rm --entrypoint cat hivecord
# /opt/hivecord/config.example.toml); variables still win over it. See docs/operators.md.

# Builder: the project and its dependencies installed into a self-contained venv.
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/hivecord/venv
# The venv first on PATH, so the install below is the README's `python3 -m pip install .` as is.
ENV PATH=/opt/hivecord/venv/bin:$PATH

WORKDIR /src
COPY . .
RUN python3 -m pip install --no-cache-dir .


# Runtime: the same base (the venv links to its python), without the sources or build leftovers.
FROM python:3.11-slim-bookworm AS runtime

ENV PATH=/opt/hivecord/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# A fixed uid/gid, so a bind-mounted /data can be chowned to match on the host.
RUN groupadd --system --gid 10001 hivecord \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin hivecord \
    && mkdir /data \
    && chown 10001:10001 /data

COPY --from=builder /opt/hivecord/venv /opt/hivecord/venv
COPY config.example.toml /opt/hivecord/config.example.toml

# The working directory is where hivecord looks for config.toml, and where a relative database
# path (the default, hivecord.sqlite3) lands when there is no config file.
WORKDIR /data
# Declared after the chown: changes to a volume path after VOLUME would be discarded.
VOLUME /data
USER 10001:10001

# Cheap, no network: the config is valid and the database opens read-only with a chain cursor.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 CMD ["hivecord", "healthcheck"]

# Exec form below, so SIGTERM goes straight to hivecord (PID 1), which shuts down cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["hivecord"]
CMD ["run"]
