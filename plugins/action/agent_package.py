# -*- coding: utf-8 -*-
# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs on the controller: the agent package from its private cache or a given file, verified, with its digest."""

from ansible.errors import AnsibleActionFail
from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase

from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_cache import CHUNK
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_cache import PackageCacheError
from ansible_collections.observability.cloudwatch.plugins.plugin_utils.package_cache import resolve

ARGS = {
    "package_file": {"type": "path", "default": ""},
    "signature_file": {"type": "path", "default": ""},
    "url": {"type": "str", "default": ""},
    "name": {"type": "str", "required": True},
    "cache_path": {"type": "str", "required": True},
    "cache_subdir": {"type": "str", "default": ""},
    "verify": {"type": "str", "choices": ["gpg", "sha256", "none"], "default": "gpg"},
    "sha256": {"type": "str", "default": ""},
    "gpg_key": {"type": "str", "default": ""},
    "gpg_key_url": {"type": "str", "default": ""},
    "fingerprint": {"type": "str", "default": ""},
}


def fetch(url):
    try:
        response = open_url(url, timeout=60)
        yield from iter(lambda: response.read(CHUNK), b"")
    except Exception as e:
        raise PackageCacheError("Cannot download {0}: {1}".format(url, e)) from e


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        dummy, options = self.validate_argument_spec(argument_spec=ARGS)
        if not options["package_file"] and not options["url"]:
            raise AnsibleActionFail("agent_package needs url or package_file.")
        try:
            result.update(resolve(options, fetch))
        except PackageCacheError as e:
            raise AnsibleActionFail(str(e)) from e
        result["changed"] = False
        return result
