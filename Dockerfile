# syntax=docker/dockerfile:1.4
# etsecd container images. Targets:
#   node      etsecd-node, the member (data in the volume /var/lib/etsecd)
#   operator  etsecd-operator, the Kubernetes operator
# Both run as the numeric non-root user 65532, with the binary as entrypoint, and work with a read-only
# root filesystem. They hold the binary and the Debian shared libraries it links, nothing else.
#
#   docker build --target node -t etsecd/etsecd-node:0.1.0 .
#   scripts/build-images            (buildah, no Docker engine; see docs/images.md)
#
# BASE_IMAGE is the Debian bookworm image every stage starts from: the official slim image by default;
# scripts/build-images passes a local one made with debootstrap where no registry is reachable.
ARG BASE_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------------
# Build stage: the -dev packages (scripts/install-deps --build-only) and the release binaries named in
# TARGETS (both by default; scripts/build-images passes only the one a runtime target needs).
FROM ${BASE_IMAGE} AS build
# The dependency layer depends on the installer alone, so source changes reuse it (the build arguments
# are declared after it for the same reason).
COPY scripts/install-deps /src/scripts/install-deps
RUN DEBIAN_FRONTEND=noninteractive /src/scripts/install-deps --build-only && rm -rf /var/lib/apt/lists/*
COPY . /src
WORKDIR /src
ARG JOBS=2
ARG VERSION=0.1.0
ARG TARGETS="etsecd-node etsecd-operator"
# ccache lives in a cache mount that outlives the build, so a rebuild after a source change recompiles
# only what changed; the build tree itself is dropped to keep the layer small. The version pin is
# checked against the tree, so the labels never name another version. Debug symbols stay in this
# stage (/out/debug), linked from the stripped binaries.
RUN --mount=type=cache,id=etsecd-ccache,target=/var/cache/ccache,sharing=locked \
    set -eu; \
    tree_version=$(sed -nE 's/^project\(etsecd VERSION ([^ )]+).*/\1/p' CMakeLists.txt); \
    case "$VERSION" in \
      "$tree_version"|"$tree_version"[-+]*) ;; \
      *) echo "VERSION=$VERSION does not match the tree's version $tree_version (CMakeLists.txt)" >&2; exit 1 ;; \
    esac; \
    for t in $TARGETS; do \
      case "$t" in etsecd-node|etsecd-operator) ;; *) echo "TARGETS: unknown binary '$t'" >&2; exit 1 ;; esac; \
    done; \
    export CCACHE_DIR=/var/cache/ccache CCACHE_MAXSIZE=2G; \
    ccache --zero-stats >/dev/null; \
    cmake --preset release >/dev/null; \
    cmake --build --preset release -j "$JOBS" --target $TARGETS; \
    ccache --show-stats | grep -E 'Hits|Misses' || true; \
    mkdir -p /out/debug; \
    for t in $TARGETS; do \
      bin=$(find build/release -type f -name "$t" -perm -u+x); \
      [ "$(echo "$bin" | wc -l)" -eq 1 ] && [ -n "$bin" ] || { echo "$t: expected one binary, found '$bin'" >&2; exit 1; }; \
      objcopy --only-keep-debug "$bin" "/out/debug/$t.debug"; \
      objcopy --strip-debug --strip-unneeded --add-gnu-debuglink="/out/debug/$t.debug" "$bin" "/out/$t"; \
    done; \
    rm -rf build
# The Debian packages that hold the shared libraries each binary loads (ldd, then dpkg -S), so the
# runtime images install exactly those and no -dev package or compiler.
RUN set -eu; \
    for name in $TARGETS; do \
      ldd "/out/$name" >/tmp/ldd.txt; \
      if grep 'not found' /tmp/ldd.txt >&2; then echo "$name: unresolved libraries" >&2; exit 1; fi; \
      awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' /tmp/ldd.txt | sort -u >/tmp/libs.txt; \
      : >/tmp/pkgs.txt; \
      while read -r lib; do \
        pkg=""; \
        for cand in "$lib" "$(readlink -f "$lib")" "${lib#/usr}" "/usr$lib"; do \
          pkg=$(dpkg -S "$cand" 2>/dev/null | head -n 1 | cut -d: -f1) && [ -n "$pkg" ] && break; \
        done; \
        if [ -z "$pkg" ]; then echo "no Debian package holds $lib (needed by $name)" >&2; exit 1; fi; \
        echo "$pkg" >>/tmp/pkgs.txt; \
      done </tmp/libs.txt; \
      sort -u /tmp/pkgs.txt >"/out/$name.packages"; \
      echo "$name needs: $(tr '\n' ' ' <"/out/$name.packages")"; \
    done; \
    rm -f /tmp/ldd.txt /tmp/libs.txt /tmp/pkgs.txt

# ---------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS operator
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/etsecd/etsecd
COPY --from=build /out/etsecd-operator.packages /tmp/etsecd.packages
RUN export DEBIAN_FRONTEND=noninteractive && apt-get update -qq \
 && xargs -a /tmp/etsecd.packages apt-get install -y -qq --no-install-recommends >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
    /tmp/etsecd.packages
COPY --from=build /out/etsecd-operator /usr/local/bin/etsecd-operator
LABEL org.opencontainers.image.title="etsecd-operator" \
      org.opencontainers.image.description="Kubernetes operator for etsecd clusters" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/etsecd-operator"]

# ---------------------------------------------------------------------------------------------------
FROM ${BASE_IMAGE} AS node
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/etsecd/etsecd
COPY --from=build /out/etsecd-node.packages /tmp/etsecd.packages
RUN export DEBIAN_FRONTEND=noninteractive && apt-get update -qq \
 && xargs -a /tmp/etsecd.packages apt-get install -y -qq --no-install-recommends >/dev/null \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
    /tmp/etsecd.packages \
 && mkdir -p /var/lib/etsecd && chown 65532:65532 /var/lib/etsecd && chmod 0700 /var/lib/etsecd
COPY --from=build /out/etsecd-node /usr/local/bin/etsecd-node
LABEL org.opencontainers.image.title="etsecd-node" \
      org.opencontainers.image.description="etsecd member: etcd v3 API, Raft over Shamir shares" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
# The member writes only below its data directory; the root filesystem may be read-only.
ENV ETSECD_DATA_DIR=/var/lib/etsecd
VOLUME /var/lib/etsecd
EXPOSE 2379 2380
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/etsecd-node"]
