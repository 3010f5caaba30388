#!/usr/bin/env bash
# Prepare a Debian bookworm host to run the role tests in podman containers
# that boot systemd.
#
#   tests/tools/podman-setup.sh [--rebuild] [--all | --image NAME...]
#
# Idempotent; run as root. It
#   1. installs podman, runc, debootstrap, dpkg-dev and rpm if one is missing
#      (apt-get update only then); for an image of another architecture also
#      mmdebstrap and qemu-user-static, and registers the emulator,
#   2. makes sure /etc/containers/containers.conf selects runc and sets
#      default ulimits that fit inside this host's limits (other settings in
#      an existing file are kept),
#   3. builds each image named (default localhost/cloudwatch-test-debian:bookworm;
#      --all: every image with a recipe) when it is not present yet, when its
#      label says it holds something else than its recipe now gives, or always
#      with --rebuild. The name says how to build it (see image_recipe); an
#      image without a recipe is refused.
#
# The RPM-family images (cloudwatch-test-el9, -al2023, -sles15, tag standin)
# are stand-ins, not those distributions: the Debian image plus rpm and dnf
# (or zypper), with an /etc/os-release that makes Ansible's facts select the
# agent role's RedHat or Suse paths.
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
ALL=false
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
# rpm brings rpmbuild, which builds the test agent's RPM (tests/fixtures/build-agent-package.sh).
HOST_PACKAGES="podman runc debootstrap dpkg-dev rpm"
# What an image of another architecture needs: a bootstrap that runs the image's maintainer scripts through the
# emulator (mmdebstrap refuses a foreign architecture without arch-test), and the emulator registered with
# binfmt_misc.
EMULATION_PACKAGES="mmdebstrap arch-test qemu-user-static binfmt-support"

usage() {
    sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
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
    --all) ALL=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[podman-setup] %s\n' "$*"; }
BASE_IMAGE=localhost/cloudwatch-test-debian:bookworm

# image_recipe NAME: how an image is built, as "debootstrap SUITE", "mmdebstrap SUITE ARCH" or "standin FLAVOUR";
# nothing for a name without a recipe.
image_recipe() {
    case "$1" in
    localhost/cloudwatch-test-debian:bookworm) echo "debootstrap bookworm" ;;
    localhost/cloudwatch-test-debian:bookworm-arm64) echo "mmdebstrap bookworm arm64" ;;
    localhost/cloudwatch-test-el9:standin) echo "standin el9" ;;
    localhost/cloudwatch-test-al2023:standin) echo "standin al2023" ;;
    localhost/cloudwatch-test-sles15:standin) echo "standin sles15" ;;
    esac
}
# recipe_images: every image image_recipe knows, in its order (so --all needs no list of its own).
recipe_images() {
    declare -f image_recipe | sed -n 's/^ *\(localhost[^)]*\))$/\1/p'
}
if [ "$ALL" = true ]; then
    mapfile -t IMAGES < <(recipe_images)
fi
[ ${#IMAGES[@]} -gt 0 ] || IMAGES=("${IMAGE:-$BASE_IMAGE}")
for image in "${IMAGES[@]}"; do
    if [ -z "$(image_recipe "$image")" ]; then
        echo "no recipe to build image '$image' (known: $(recipe_images | paste -sd ' '))" >&2
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

# What a stand-in adds to the Debian image, by flavour: its package manager, and the os-release (with the
# release file the distribution also has) that Ansible's facts read (distribution, version, os_family).
standin_packages() {
    case "$1" in
    el9 | al2023) echo "rpm dnf python3-dnf" ;;
    sles15) echo "rpm zypper" ;;
    esac
}
standin_os_release() {
    case "$1" in
    el9)
        printf '%s\n' 'NAME="Red Hat Enterprise Linux"' 'VERSION="9.4 (Plow)"' 'ID="rhel"' 'ID_LIKE="fedora"' \
            'VERSION_ID="9.4"' 'PLATFORM_ID="platform:el9"' \
            'PRETTY_NAME="RHEL 9 stand-in (Debian bookworm userland with rpm and dnf)"'
        ;;
    al2023)
        printf '%s\n' 'NAME="Amazon Linux"' 'VERSION="2023"' 'ID="amzn"' 'ID_LIKE="fedora"' 'VERSION_ID="2023"' \
            'PLATFORM_ID="platform:al2023"' \
            'PRETTY_NAME="Amazon Linux 2023 stand-in (Debian bookworm userland with rpm and dnf)"'
        ;;
    sles15)
        printf '%s\n' 'NAME="SLES"' 'VERSION="15-SP5"' 'VERSION_ID="15.5"' 'ID="sles"' 'ID_LIKE="suse"' \
            'PRETTY_NAME="SLES 15 stand-in (Debian bookworm userland with rpm and zypper)"'
        ;;
    esac
}
standin_release_file() {
    case "$1" in
    el9) echo "/etc/redhat-release Red Hat Enterprise Linux release 9.4 (Plow)" ;;
    al2023) echo "/etc/system-release Amazon Linux release 2023 (Amazon Linux)" ;;
    esac
}

# What a stand-in's RPM database is told the Debian userland provides (package standin-userland): the
# interpreter RPM scriptlets name, which bash provides on the real distributions, and the release version dnf
# reads from the distribution's release package (else it warns it cannot detect it).
standin_rpm_provides() {
    case "$1" in
    el9) echo "/bin/sh, system-release(releasever) = 9" ;;
    al2023) echo "/bin/sh, system-release(releasever) = 2023" ;;
    *) echo /bin/sh ;;
    esac
}

# image_contents IMAGE: what the image's label "packages" records; a cached image whose label differs was built
# by another recipe and is built again.
image_contents() {
    local recipe flavour
    recipe="$(image_recipe "$1")"
    case "$recipe" in
    standin\ *)
        flavour="${recipe#standin }"
        printf '%s,%s;os-release %s;rpm provides %s;steps %s\n' "$IMAGE_PACKAGES" \
            "$(standin_packages "$flavour" | tr ' ' ,)" \
            "$(standin_os_release "$flavour" | awk -F= '$1 == "ID" || $1 == "VERSION_ID" {gsub(/"/, "", $2); print $2}' |
                paste -sd ' ')" "$(standin_rpm_provides "$flavour")" "$(printf '%s' "$STANDIN_STEPS" | cksum | cut -d' ' -f1)"
        ;;
    *) echo "$IMAGE_PACKAGES" ;;
    esac
}

# The steps inside the build container of a stand-in: $1 packages, $2 os-release, $3 "PATH TEXT" of the release
# file (or nothing), $4 what the RPM database is told the userland provides.
# shellcheck disable=SC2016  # expanded by the container's shell
STANDIN_STEPS='
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $1 >/dev/null 2>&1
rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/* /var/log/*.log /var/log/apt/*
rm -f /etc/debian_version /etc/os-release /usr/lib/os-release
printf "%s\n" "$2" >/usr/lib/os-release
ln -s ../usr/lib/os-release /etc/os-release
if [ -n "$3" ]; then printf "%s\n" "${3#* }" >"${3%% *}"; fi
# One RPM database for rpm, dnf and zypper, where the real distributions keep it (Debian'"'"'s rpm defaults to ~/.rpmdb).
mkdir -p /etc/rpm /var/lib/rpm
echo "%_dbpath /var/lib/rpm" >/etc/rpm/macros
rpmdb --initdb
top="$(mktemp -d)"
printf "%s\n" "Name: standin-userland" "Version: 1" "Release: 1" "License: GPL-3.0-or-later" "BuildArch: noarch" \
    "Summary: What the Debian userland of this stand-in image provides" "Provides: $4" \
    "%description" "The Debian userland of a test image standing in for an RPM distribution." "%files" \
    >"$top/standin-userland.spec"
rpmbuild -bb --quiet --define "_topdir $top" "$top/standin-userland.spec" >/dev/null
rpm --force-debian -i "$top"/RPMS/noarch/standin-userland-1-1.noarch.rpm
rm -rf "$top"
'

# build_standin IMAGE FLAVOUR: the Debian image plus the flavour's package manager, presenting the flavour's
# os-release. /etc/debian_version goes (else Ansible's facts say Debian); dpkg and apt stay, so nothing else breaks.
build_standin() {
    local image="$1" flavour="$2" builder="cloudwatch-test-build-$$" old_id=""
    REBUILD=false ensure_image "$BASE_IMAGE" # the base is cached as any image; --rebuild rebuilds what was named
    log "building $image: $BASE_IMAGE plus $(standin_packages "$flavour") ($flavour stand-in)"
    podman rm -f "$builder" >/dev/null 2>&1 || true
    # shellcheck disable=SC2064  # expand now: the name is fixed
    trap "podman rm -f '$builder' >/dev/null 2>&1 || true" EXIT
    podman run --name "$builder" --network host --entrypoint /bin/sh "$BASE_IMAGE" -euc "$STANDIN_STEPS" standin \
        "$(standin_packages "$flavour")" "$(standin_os_release "$flavour")" "$(standin_release_file "$flavour")" \
        "$(standin_rpm_provides "$flavour")" || {
        echo "building $image failed" >&2
        exit 1
    }
    if podman image exists "$image"; then
        old_id="$(podman image inspect --format '{{.Id}}' "$image")"
    fi
    podman commit --quiet --change 'CMD ["/sbin/init"]' --change 'ENTRYPOINT []' \
        --change "LABEL packages=$(image_contents "$image")" "$builder" "$image" >/dev/null
    podman rm -f "$builder" >/dev/null
    trap - EXIT
    if [ -n "$old_id" ] && [ "$old_id" != "$(podman image inspect --format '{{.Id}}' "$image")" ]; then
        podman rmi "$old_id" >/dev/null 2>&1 || log "previous image ${old_id:0:12} kept: still in use"
    fi
    log "built $image ($(podman image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1000000}'))"
}

# ensure_image IMAGE: build it unless it is cached with the contents its recipe gives now.
ensure_image() {
    local image="$1" recipe
    recipe="$(image_recipe "$image")"
    # An image of another architecture runs through the emulator, cached or not: a reboot forgets its registration.
    case "$recipe" in mmdebstrap\ *) register_emulator "${recipe##* }" ;; esac
    if podman image exists "$image" && [ "$REBUILD" = false ] &&
        [ "$(podman image inspect --format '{{ index .Labels "packages" }}' "$image" 2>/dev/null)" = "$(image_contents "$image")" ]; then
        log "image $image present (cached; --rebuild forces a new build)"
    else
        # shellcheck disable=SC2086  # the recipe is words: builder and its arguments
        "build_${recipe%% *}" "$image" ${recipe#* }
    fi
}

for image in "${IMAGES[@]}"; do
    ensure_image "$image"
done

log "done in $(($(date +%s) - started))s"
