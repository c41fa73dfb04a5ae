"""One web demo server (tiny probabilistic SPN, small limits) shared by the
API and browser tests of this folder."""
import pytest

from test_apis.spn_api_fixtures import TINY_PROB, make_tiny_checkpoint
from test_web.web_fixtures import MAX_IMAGE_PIXELS, MAX_UPLOAD_MB, demo_server


@pytest.fixture(scope='session')
def web_ckpt(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp('web_ckpt')
    return make_tiny_checkpoint(str(root / 'prob.pth'), 'prob')


@pytest.fixture(scope='session')
def web_server(web_ckpt, tmp_path_factory):
    log = tmp_path_factory.mktemp('web_server') / 'server.log'
    with demo_server(TINY_PROB, web_ckpt, str(log), [
            '--max-upload-mb',
            str(MAX_UPLOAD_MB), '--max-image-pixels',
            str(MAX_IMAGE_PIXELS), '--max-queue', '16'
    ]) as server:
        yield server


@pytest.fixture(autouse=True, scope='module')
def one_thread_like_the_server():
    """The server runs with OMP_NUM_THREADS=1; the in-process reference
    must use the same reduction order to be compared pixel for pixel."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
