"""community.docker without Galaxy: extracted from the ansible wheel, cached, swapped in whole."""
import json
import zipfile

import pytest

from harness.drill import collections as coll


def fake_wheel(path, version="4.8.5"):
    with zipfile.ZipFile(path, "w") as wheel:
        for name in coll.BUNDLED_COLLECTIONS:
            manifest = {"collection_info": {"version": version if name == "community/docker" else "1.1.5"}}
            wheel.writestr(f"ansible_collections/{name}/MANIFEST.json", json.dumps(manifest))
        wheel.writestr("ansible_collections/amazon/aws/MANIFEST.json", "{}")
    return path


@pytest.fixture
def offline_wheel(tmp_path, monkeypatch):
    downloads = []

    def download(into, version):
        downloads.append(version)
        return fake_wheel(into / f"ansible-{version}-py3-none-any.whl")

    monkeypatch.setattr(coll, "_download_wheel", download)
    return downloads


def test_only_the_bundled_collections_are_extracted(tmp_path, offline_wheel):
    target = coll.ensure_collections(tmp_path / "collections")
    assert sorted(p.name for p in (target / "ansible_collections" / "community").iterdir()) == \
        ["docker", "library_inventory_filtering_v1"]
    assert not (target / "ansible_collections" / "amazon").exists()
    assert coll.installed_version(target) == (4, 8, 5)


def test_a_ready_cache_is_used_without_downloading(tmp_path, offline_wheel):
    coll.ensure_collections(tmp_path / "collections")
    coll.ensure_collections(tmp_path / "collections")
    assert len(offline_wheel) == 1


def test_a_too_old_collection_is_replaced(tmp_path, monkeypatch):
    target = tmp_path / "collections"
    with zipfile.ZipFile(fake_wheel(tmp_path / "old.whl", "3.0.0")) as old:
        old.extractall(target)
    assert not coll.collections_ready(target)
    monkeypatch.setattr(coll, "_download_wheel", lambda into, version: fake_wheel(into / "new.whl"))
    coll.ensure_collections(target)
    assert coll.installed_version(target) == (4, 8, 5)


@pytest.mark.ansible
def test_the_real_cache_holds_community_docker_from_the_ansible_wheel():
    target = coll.ensure_collections()
    assert coll.installed_version(target) >= coll.MIN_COMMUNITY_DOCKER
    assert (target / "ansible_collections/community/docker/plugins/modules/docker_compose_v2.py").is_file()
