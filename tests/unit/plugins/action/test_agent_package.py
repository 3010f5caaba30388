# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_package: a refused cache or package fails the task with its message."""

import hashlib
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.observability.cloudwatch.plugins.action.agent_package import ActionModule


def run(args):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.diff = False
    action = ActionModule(task, MagicMock(), MagicMock(check_mode=False), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})


def test_package_file_gives_path_and_digest(tmp_path):
    (tmp_path / "agent.deb").write_bytes(b"package")
    digest = hashlib.sha256(b"package").hexdigest()
    result = run({"package_file": str(tmp_path / "agent.deb"), "name": "agent.deb", "cache_path": str(tmp_path / "c"), "verify": "sha256", "sha256": digest})
    assert result["path"] == os.path.realpath(tmp_path / "agent.deb")
    assert result["sha256"] == digest
    assert result["changed"] is False


def test_refused_cache_fails_the_task_with_its_message(tmp_path):
    (tmp_path / "c").mkdir()
    os.chmod(tmp_path / "c", 0o777)
    with pytest.raises(AnsibleActionFail, match="writable by group or others"):
        run({"url": "http://127.0.0.1:9/x", "name": "agent.deb", "cache_path": str(tmp_path / "c"), "verify": "none"})


def test_neither_url_nor_package_file_is_refused(tmp_path):
    with pytest.raises(AnsibleActionFail, match="needs url or package_file"):
        run({"name": "agent.deb", "cache_path": str(tmp_path / "c")})


@pytest.fixture
def server(tmp_path):
    """A local HTTP server for the files under tmp_path/www; yields its base URL."""
    import functools
    import http.server
    import threading

    (tmp_path / "www").mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:{0}".format(httpd.server_address[1])
    httpd.shutdown()


def test_download_into_the_cache_over_http(tmp_path, server):
    (tmp_path / "www" / "agent.deb").write_bytes(b"package" * 100000)
    digest = hashlib.sha256(b"package" * 100000).hexdigest()
    args = {"url": server, "name": "agent.deb", "cache_path": str(tmp_path / "c"), "cache_subdir": "1.0", "verify": "sha256", "sha256": digest}
    result = run(args)
    assert result["downloaded"] is True
    assert (tmp_path / "c" / "1.0" / "agent.deb").read_bytes() == b"package" * 100000
    (tmp_path / "www" / "agent.deb").unlink()
    assert run(args)["downloaded"] is False


def test_missing_download_is_reported(tmp_path, server):
    with pytest.raises(AnsibleActionFail, match="Cannot download .*/agent.deb: HTTP Error 404"):
        run({"url": server, "name": "agent.deb", "cache_path": str(tmp_path / "c"), "verify": "none"})
