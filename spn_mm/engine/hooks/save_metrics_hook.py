"""Write the test metrics to a file (``tools/test.py --out``)."""
from typing import Any, Dict, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import dump
from mmengine.hooks import Hook

from spn_mm.registry import HOOKS


def to_builtin(value: Any) -> Any:
    """Tensors / numpy values -> Python numbers and lists (json/yaml)."""
    if hasattr(value, 'tolist'):
        return value.tolist()
    return value


@HOOKS.register_module()
class SaveMetricsHook(Hook):
    """Dump the metrics of every test epoch to ``out_file`` (json, yaml or
    pickle by its extension), on the main process. Pairs the test dataset
    dropped (``allow_missing=True``) are added as ``skipped_pairs``.

    Args:
        out_file (str): Output path.
    """

    priority = 'LOWEST'

    def __init__(self, out_file: str) -> None:
        self.out_file = out_file

    def after_test_epoch(self, runner,
                         metrics: Optional[Dict[str, Any]] = None) -> None:
        if metrics is not None and is_main_process():
            out = {k: to_builtin(v) for k, v in metrics.items()}
            dataset = getattr(runner.test_dataloader, 'dataset', None)
            skipped = getattr(dataset, 'metainfo', {}).get('skipped_pairs')
            if skipped is not None:
                out['skipped_pairs'] = list(skipped)
            dump(out, self.out_file)
