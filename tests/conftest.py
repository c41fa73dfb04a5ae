import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import spn_mm  # noqa: E402,F401  (patches + registry, as configs do)


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory) -> str:
    """A tiny generated dataset (see tests/utils.make_tiny_dataset)."""
    from utils import make_tiny_dataset
    return make_tiny_dataset(str(tmp_path_factory.mktemp('tiny_data')))

from mmengine.registry import DefaultScope  # noqa: E402

# As in a config with default_scope='mmagic': names resolve in mmagic's scope.
DefaultScope.get_instance('spn_mm_tests', scope_name='mmagic')


@pytest.fixture(autouse=True)
def _no_closed_log_files():
    """Drop closed file handlers from mmengine's current logger after a test.

    mmengine writes init info to the current MMLogger's FileHandler
    (``BaseModule.init_weights``); a test that closed its log file must not
    break the tests after it.
    """
    yield
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler) and handler.stream is None:
            logger.removeHandler(handler)
