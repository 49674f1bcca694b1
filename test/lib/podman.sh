# Helpers for integration tests that drive the real podman CLI (Debian 12's podman 4.3, conmon,
# CNI or netavark), rootful. Requires: root, podman, the image measured/tools in podman's store,
# the measured runtimes registered with podman (contrib/setup-debian.sh does all of it). A missing
# piece fails the test: it is never a skip.
IMAGE=${MEASURED_TOOLS_IMAGE:-measured/tools}
. "$(dirname "${BASH_SOURCE[0]}")/records.sh"

# This machine refuses podman's default rlimits (nofile and nproc raised to their maximum) for
# every runtime, runc and crun alike (README, "Podman"): each container gets these instead.
PODMAN_LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

require_podman() {
  local why=""
  [ "$(id -u)" = 0 ] || why="not root"
  [ -z "$why" ] && ! command -v podman >/dev/null && why="podman is not installed"
  [ -z "$why" ] && ! podman image exists "$IMAGE" && why="image $IMAGE missing from podman's store"
  [ -z "$why" ] && ! podman --runtime measured-runc info >/dev/null 2>&1 &&
    why="measured-runc is not registered with podman"
  if [ -n "$why" ]; then
    echo "Bail out! podman environment: $why (run contrib/setup-debian.sh)"
    exit 1
  fi
}

# podman run with this machine's limits; the label lets cleanup find what a test left.
prun() { # label, podman run arguments...
  local label=$1
  shift
  podman run --label "measured-test=$label" "${PODMAN_LIMITS[@]}" "$@"
}

podman_cleanup() { podman ps -aq --filter "label=measured-test=$1" | xargs -r podman rm -f >/dev/null 2>&1; }
podman_full_id() { podman inspect -f '{{.Id}}' "$1"; }
