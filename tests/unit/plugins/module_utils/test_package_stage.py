# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The package's staging directory on the host and the digest check right before installation."""

import hashlib
import os

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import PREFIX
from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import PackageStageError
from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import create
from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import remove
from ansible_collections.observability.cloudwatch.plugins.module_utils.package_stage import verify

PACKAGE = b"the verified package\n"
DIGEST = hashlib.sha256(PACKAGE).hexdigest()


@pytest.fixture
def staged(tmp_path):
    directory = create(str(tmp_path))
    path = os.path.join(directory, "amazon-cloudwatch-agent.deb")
    with open(path, "wb") as f:
        f.write(PACKAGE)
    return path


def test_create_makes_a_fresh_private_directory(tmp_path):
    first, second = create(str(tmp_path)), create(str(tmp_path))
    assert first != second
    for directory in (first, second):
        st = os.lstat(directory)
        assert os.path.basename(directory).startswith(PREFIX)
        assert st.st_mode & 0o777 == 0o700
        assert st.st_uid == os.geteuid()


def test_create_ignores_a_planted_file_at_the_old_path(tmp_path):
    (tmp_path / "amazon-cloudwatch-agent.deb").write_bytes(b"planted")
    directory = create(str(tmp_path))
    assert os.listdir(directory) == []
    assert (tmp_path / "amazon-cloudwatch-agent.deb").read_bytes() == b"planted"


def test_verify_accepts_the_verified_bytes(staged):
    verify(staged, DIGEST.upper())


def test_verify_refuses_other_bytes(staged):
    with open(staged, "ab") as f:
        f.write(b"changed after verification")
    with pytest.raises(PackageStageError) as e:
        verify(staged, DIGEST)
    assert "not the {0} the controller verified".format(DIGEST) in str(e.value)
    assert "it was not installed" in str(e.value)


def test_verify_refuses_a_symlink(staged, tmp_path):
    (tmp_path / "elsewhere.deb").write_bytes(PACKAGE)
    os.unlink(staged)
    os.symlink(tmp_path / "elsewhere.deb", staged)
    with pytest.raises(PackageStageError, match="Cannot read the staged package"):
        verify(staged, DIGEST)


def test_verify_refuses_a_directory_others_can_enter(staged):
    os.chmod(os.path.dirname(staged), 0o755)
    with pytest.raises(PackageStageError, match="is not a staging directory made for the package"):
        verify(staged, DIGEST)


def test_verify_refuses_a_package_outside_a_staging_directory(tmp_path):
    (tmp_path / "private").mkdir(mode=0o700)
    (tmp_path / "private" / "amazon-cloudwatch-agent.deb").write_bytes(PACKAGE)
    with pytest.raises(PackageStageError, match="is not a staging directory made for the package"):
        verify(str(tmp_path / "private" / "amazon-cloudwatch-agent.deb"), DIGEST)


def test_remove_deletes_the_directory_and_its_package(staged):
    directory = os.path.dirname(staged)
    assert remove(directory) is True
    assert not os.path.lexists(directory)
    assert remove(directory) is False


def test_remove_in_check_mode_changes_nothing(staged):
    assert remove(os.path.dirname(staged), check_mode=True) is True
    assert os.path.exists(staged)


def test_remove_refuses_a_link_or_another_path(staged, tmp_path):
    link = tmp_path / (PREFIX + "link")
    os.symlink(os.path.dirname(staged), link)
    with pytest.raises(PackageStageError, match="left alone"):
        remove(str(link))
    with pytest.raises(PackageStageError, match="left alone"):
        remove(str(tmp_path))
    assert os.path.exists(staged)
