import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    """Teacher tests run many tiny convs: one intra-op thread is far faster
    than two on a shared 2-core machine (no OpenMP contention)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
