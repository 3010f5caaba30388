# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the agent package comes from, checked on the controller before anything is downloaded for a host: https
sources (http only when the inventory allows it), a resolved `latest` that is a version before it enters a URL
or a cache path, and a warning whenever the package is installed unverified."""

from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_plan import VERSION

# Longer than any agent version AWS has published; a longer answer is not a version.
MAX_VERSION = 64
ALLOW_HTTP = "cloudwatch_agent_allow_http_download"


class PackageSourceError(Exception):
    pass


def check_url(option, url, allow_http):
    """Refuse a source that is not https://, or http:// without the switch; whether it is http (a warning)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "https":
        return False
    if scheme == "http" and allow_http:
        return True
    if scheme == "http":
        raise PackageSourceError(
            "{0} is {1}: over plain http anyone on the network path can change what is downloaded (the latest "
            "version, the signing key, and the package itself unless its signature is checked). Use an https:// "
            "URL, or set {2}: true for the hosts that must use it. Nothing was downloaded or installed.".format(
                option, url, ALLOW_HTTP))
    raise PackageSourceError("{0} must be an https:// URL (http:// only with {1}: true); got {2!r}. Nothing was "
                             "downloaded or installed.".format(option, ALLOW_HTTP, url))


def check_sources(settings):
    """Warnings for the package settings of one host; refuses a source it may not use."""
    warnings = []
    http = []
    if not settings["package_file"]:
        if check_url("cloudwatch_agent_package_base_url", settings["package_base_url"], settings["allow_http_download"]):
            http.append(settings["package_base_url"])
    if settings["package_verify"] == "gpg" and settings["gpg_key_url"]:
        if check_url("cloudwatch_agent_gpg_key_url", settings["gpg_key_url"], settings["allow_http_download"]):
            http.append(settings["gpg_key_url"])
    if http:
        warnings.append("The agent package is downloaded over plain http from {0} ({1}: true).".format(" and ".join(http), ALLOW_HTTP))
    if settings["package_verify"] == "none":
        warnings.append(
            "cloudwatch_agent_package_verify is none: the agent package, which runs as root, is installed without "
            "any check that it is the one AWS published. Use gpg (AWS's signature) or sha256 "
            "(cloudwatch_agent_package_sha256).")
    return warnings


def latest_version(text, source):
    """The version read from <base URL>/info/latest/CWAGENT_VERSION, refused unless it is one."""
    value = (text or "").strip()
    if len(value) > MAX_VERSION or not VERSION.match(value):
        raise PackageSourceError(
            "The latest agent version read from {0} is {1!r}, not a version such as 1.300069.0b1529 (at most {2} "
            "characters: digits, letters and . + ~ -). Nothing was downloaded or installed; check "
            "cloudwatch_agent_package_base_url, or set cloudwatch_agent_version to a version.".format(
                source, value[:80] + ("..." if len(value) > 80 else ""), MAX_VERSION))
    return value
