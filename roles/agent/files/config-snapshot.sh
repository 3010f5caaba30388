#!/bin/sh
# config-snapshot.sh save|restore ETC_DIR SNAPSHOT_DIR
# Saves (or puts back) the CloudWatch agent's configuration: amazon-cloudwatch-agent.d/,
# amazon-cloudwatch-agent.json, amazon-cloudwatch-agent.toml and amazon-cloudwatch-agent.yaml.
set -eu
action="$1" etc="$2" snapshot="$3"
files="amazon-cloudwatch-agent.json amazon-cloudwatch-agent.toml amazon-cloudwatch-agent.yaml"
case "$action" in
save)
    rm -rf "$snapshot.new"
    mkdir -p "$snapshot.new/amazon-cloudwatch-agent.d"
    if [ -d "$etc/amazon-cloudwatch-agent.d" ]; then
        cp -a "$etc/amazon-cloudwatch-agent.d/." "$snapshot.new/amazon-cloudwatch-agent.d/"
    fi
    for f in $files; do
        if [ -e "$etc/$f" ]; then cp -a "$etc/$f" "$snapshot.new/$f"; fi
    done
    rm -rf "$snapshot"
    mv "$snapshot.new" "$snapshot"
    ;;
restore)
    [ -d "$snapshot" ] || { echo "no snapshot at $snapshot" >&2; exit 1; }
    mkdir -p "$etc/amazon-cloudwatch-agent.d"
    find "$etc/amazon-cloudwatch-agent.d" -mindepth 1 -delete
    cp -a "$snapshot/amazon-cloudwatch-agent.d/." "$etc/amazon-cloudwatch-agent.d/"
    for f in $files; do
        rm -f "$etc/$f"
        if [ -e "$snapshot/$f" ]; then cp -a "$snapshot/$f" "$etc/$f"; fi
    done
    ;;
*)
    echo "usage: $0 save|restore ETC_DIR SNAPSHOT_DIR" >&2
    exit 2
    ;;
esac
