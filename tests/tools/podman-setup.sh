#!/usr/bin/env bash
# Prepare a Debian bookworm host to run the role tests in podman containers
# that boot systemd.
#
#   tests/tools/podman-setup.sh [--rebuild] [--image NAME]...
#
# Idempotent; run as root. It
#   1. installs podman, runc, debootstrap and dpkg-dev if one is missing
#      (apt-get update only then); for an image of another architecture also
#      mmdebstrap and qemu-user-static, and registers the emulator,
#   2. makes sure /etc/containers/containers.conf selects runc and sets
#      default ulimits that fit inside this host's limits (other settings in
#      an existing file are kept),
#   3. builds each image named (default localhost/cloudwatch-test-debian:bookworm)
#      when it is not present yet, or always with --rebuild. The name says how
#      to build it (see image_recipe); an image without a recipe is refused.
#
# Environment:
#   DEBIAN_MIRROR   mirror for debootstrap and mmdebstrap (default http://deb.debian.org/debian)
#   IMAGE           the image when no --image is given
#
# No terminal is needed (CI); all output is plain lines.
set -euo pipefail

IMAGES=()
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REBUILD=false
CONTAINERS_CONF=/etc/containers/containers.conf

# Packages inside the image: what systemd, Ansible and the agent role need.
#   python3, systemd, systemd-sysv  boot and run Ansible modules
#   python3-apt                     ansible.builtin.apt (cannot be installed later: no network)
#   sudo, acl                       become, including become_user to an unprivileged user
#   ca-certificates, gnupg          HTTPS downloads and package signature checks
#   procps, iproute2                ps (used by amazon-cloudwatch-agent-ctl status), ss
#   netbase                         /etc/services and /etc/protocols
#   dbus                            systemctl for users other than root (the agent's ctl runs as the agent's user)
IMAGE_PACKAGES="python3,python3-apt,systemd,systemd-sysv,sudo,acl,ca-certificates,gnupg,procps,iproute2,netbase,dbus"
HOST_PACKAGES="podman runc debootstrap dpkg-dev"
# What an image of another architecture needs: a bootstrap that runs the image's maintainer scripts through the
# emulator (mmdebstrap refuses a foreign architecture without arch-test), and the emulator registered with
# binfmt_misc.
EMULATION_PACKAGES="mmdebstrap arch-test qemu-user-static binfmt-support"

usage() {
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --rebuild) REBUILD=true ;;
    --image)
        [ $# -ge 2 ] || { echo "--image needs a value" >&2; exit 2; }
        IMAGES+=("$2")
        shift
        ;;
    --image=*) IMAGES+=("${1#--image=}") ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[podman-setup] %s\n' "$*"; }
[ ${#IMAGES[@]} -gt 0 ] || IMAGES=("${IMAGE:-localhost/cloudwatch-test-debian:bookworm}")

# image_recipe NAME: how an image is built, as "debootstrap SUITE" or "mmdebstrap SUITE ARCH"; nothing for a name
# without a recipe.
image_recipe() {
    case "$1" in
    localhost/cloudwatch-test-debian:bookworm) echo "debootstrap bookworm" ;;
    localhost/cloudwatch-test-debian:bookworm-arm64) echo "mmdebstrap bookworm arm64" ;;
    esac
}
for image in "${IMAGES[@]}"; do
    if [ -z "$(image_recipe "$image")" ]; then
        echo "no recipe to build image '$image' (known: localhost/cloudwatch-test-debian:bookworm," \
            "localhost/cloudwatch-test-debian:bookworm-arm64)" >&2
        exit 2
    fi
    case "$(image_recipe "$image")" in
    mmdebstrap\ *) HOST_PACKAGES="$HOST_PACKAGES $EMULATION_PACKAGES" ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "podman-setup.sh must run as root (it installs packages and builds a root image)" >&2
    exit 1
fi

started=$(date +%s)

# --- 1. host packages -------------------------------------------------------
missing=""
for pkg in $HOST_PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    apt-get install -y -q --no-install-recommends $missing
else
    log "host packages present: $HOST_PACKAGES"
fi

# --- 2. containers.conf -----------------------------------------------------
# set_toml_key FILE SECTION KEY VALUE: set KEY = VALUE in [SECTION], replacing
# an existing (possibly commented-out default is left alone) assignment of KEY
# in that section, adding the section if it is missing. Other content is kept.
set_toml_key() {
    local file="$1" section="$2" key="$3" value="$4" tmp
    tmp="$(mktemp "${file}.XXXXXX")"
    awk -v section="$section" -v key="$key" -v value="$value" '
        function flush_pending() {
            if (in_section && !done) { print key " = " value; done = 1 }
        }
        /^[[:space:]]*\[[^]]+\][[:space:]]*(#.*)?$/ {
            name = $0
            sub(/^[[:space:]]*\[/, "", name)
            sub(/\].*$/, "", name)
            if (in_section) flush_pending()
            in_section = (name == section)
            if (in_section) seen = 1
            print
            next
        }
        in_section && !done && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
            print key " = " value
            done = 1
            # skip continuation lines of a multi-line array
            if ($0 ~ /\[[^]]*$/) { skipping = 1 }
            next
        }
        skipping {
            if ($0 ~ /\]/) skipping = 0
            next
        }
        { print }
        END {
            if (in_section) flush_pending()
            if (!seen) { print ""; print "[" section "]"; print key " = " value }
        }
    ' "$file" >"$tmp"
    cat "$tmp" >"$file"
    rm -f "$tmp"
}

mkdir -p "$(dirname "$CONTAINERS_CONF")"
[ -f "$CONTAINERS_CONF" ] || : >"$CONTAINERS_CONF"
before="$(cksum <"$CONTAINERS_CONF")"
set_toml_key "$CONTAINERS_CONF" engine runtime '"runc"'
set_toml_key "$CONTAINERS_CONF" containers default_ulimits '["nofile=4096:4096", "nproc=4096:4096"]'
if [ "$before" != "$(cksum <"$CONTAINERS_CONF")" ]; then
    log "updated $CONTAINERS_CONF"
else
    log "$CONTAINERS_CONF already set"
fi

# --- 3. images --------------------------------------------------------------
# bootstrap ROOTFS COMMAND...: run the bootstrap COMMAND, its output in a log shown only when it fails. The root
# file system and the log are removed if the script stops before import_rootfs.
bootstrap() {
    local rootfs="$1"
    shift
    # shellcheck disable=SC2064  # expand now: the path is fixed
    trap "rm -rf '$rootfs' '$rootfs.bootstrap.log'" EXIT
    "$@" >"$rootfs.bootstrap.log" 2>&1 || {
        tail -n 40 "$rootfs.bootstrap.log" >&2
        exit 1
    }
    rm -f "$rootfs.bootstrap.log"
}

# build_debootstrap IMAGE SUITE: a minimal Debian SUITE with systemd, imported as IMAGE.
build_debootstrap() {
    local image="$1" suite="$2" rootfs
    rootfs="$(mktemp -d /var/tmp/cloudwatch-test-rootfs.XXXXXX)"
    log "debootstrap $suite from $DEBIAN_MIRROR into $rootfs"
    bootstrap "$rootfs" debootstrap --variant=minbase --include="$IMAGE_PACKAGES" "$suite" "$rootfs" "$DEBIAN_MIRROR"
    import_rootfs "$image" "$rootfs"
}

# register_emulator ARCH: the kernel runs ARCH's binaries through qemu-user-static. The F flag (the emulator opened
# when registered) lets it run them inside a chroot or a container, where the emulator's path does not exist.
register_emulator() {
    local name entry
    case "$1" in
    arm64) name=qemu-aarch64 ;;
    *) echo "no emulator known for architecture '$1'" >&2; exit 2 ;;
    esac
    entry="/proc/sys/fs/binfmt_misc/$name"
    # A host (or a container) that never mounted binfmt_misc has an empty directory there.
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    # binfmt-support imported the format when qemu-user-static was installed; the kernel may not have it yet.
    grep -qx enabled "$entry" 2>/dev/null || update-binfmts --enable "$name"
    if ! grep -qx enabled "$entry" || ! grep -q '^flags: .*F' "$entry"; then
        echo "$name is not registered with binfmt_misc, enabled with the F flag:" \
            "$(tr '\n' ' ' <"$entry" 2>/dev/null)" >&2
        exit 1
    fi
    log "emulator $name registered ($(grep '^flags:' "$entry"))"
}

# build_mmdebstrap IMAGE SUITE ARCH: the same for another architecture, its maintainer scripts run by the emulator
# (registered first; several times slower than native), imported as an ARCH image.
build_mmdebstrap() {
    local image="$1" suite="$2" arch="$3" rootfs
    rootfs="$(mktemp -d /var/tmp/cloudwatch-test-rootfs.XXXXXX)"
    log "mmdebstrap $suite ($arch) from $DEBIAN_MIRROR into $rootfs"
    bootstrap "$rootfs" mmdebstrap --variant=minbase --architectures="$arch" --include="$IMAGE_PACKAGES" \
        "$suite" "$rootfs" "$DEBIAN_MIRROR"
    import_rootfs "$image" "$rootfs" "$arch"
}

# import_rootfs IMAGE ROOTFS [ARCH]: make the bootstrapped ROOTFS a container root, import it as IMAGE (of ARCH
# when given, else this host's), remove ROOTFS.
import_rootfs() {
    local image="$1" rootfs="$2" arch_option=() old_id=""
    [ -z "${3:-}" ] || arch_option=(--arch "$3")
    # A fresh machine-id per container; no package caches in the image.
    : >"$rootfs/etc/machine-id"
    rm -f "$rootfs/var/lib/dbus/machine-id"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    # Units that only make sense on real hardware or a console.
    for unit in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
        systemd-remount-fs.service sys-kernel-config.mount sys-kernel-debug.mount dev-hugepages.mount; do
        ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
    done

    if podman image exists "$image"; then
        old_id="$(podman image inspect --format '{{.Id}}' "$image")"
    fi
    log "importing $image"
    tar -C "$rootfs" --numeric-owner -c . |
        podman import "${arch_option[@]}" --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
            --change "LABEL packages=$IMAGE_PACKAGES" - "$image" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
    # The tag has moved to the new image. Drop the old one unless a container
    # still uses it (never force: that would remove running containers).
    if [ -n "$old_id" ]; then
        podman rmi "$old_id" >/dev/null 2>&1 || log "previous image ${old_id:0:12} kept: still in use"
    fi
    log "built $image ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1000000}'))"
}

# The image records its package list: a cached image built with another list is built again.
for image in "${IMAGES[@]}"; do
    # shellcheck disable=SC2046  # the recipe is words: builder and its arguments
    set -- $(image_recipe "$image")
    # An image of another architecture runs through the emulator, cached or not: a reboot forgets its registration.
    [ "$1" != mmdebstrap ] || register_emulator "$3"
    if podman image exists "$image" && [ "$REBUILD" = false ] &&
        [ "$(podman image inspect --format '{{ index .Labels "packages" }}' "$image" 2>/dev/null)" = "$IMAGE_PACKAGES" ]; then
        log "image $image present (cached; --rebuild forces a new build)"
    else
        "build_$1" "$image" "${@:2}"
    fi
done

log "done in $(($(date +%s) - started))s"
