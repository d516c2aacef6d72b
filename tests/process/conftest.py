import pytest

from harness import NODE_BIN, Cluster


def pytest_collection_modifyitems(config, items):
    if not NODE_BIN.exists():
        raise pytest.UsageError(f"{NODE_BIN} is not built; build the release preset first")


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path).start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory):
    """One 5-member cluster for tests that only read and write (no faults)."""
    c = Cluster(tmp_path_factory.mktemp("shared")).start()
    yield c
    c.stop()
