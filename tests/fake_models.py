"""Test-only models with known outputs, for metric checks through
tools/test.py (imported via a config's ``custom_imports``; ``tests`` must be
on PYTHONPATH)."""
import torch
from mmagic.models.base_models import BaseEditModel  # noqa: F401
from mmagic.structures import DataSample
from mmengine.model import BaseModel

from spn_mm.registry import MODELS


@MODELS.register_module()
class OracleTestInpaintor(BaseModel):
    """Predicts the ground truth (or a fixed grey level when ``value``)."""

    def __init__(self, data_preprocessor: dict, value: float = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.value = value
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='predict'):
        out = []
        for ds in data_samples.split() if hasattr(
                data_samples, 'split') else data_samples:
            gt = ds.gt_img
            pred = gt.clone() if self.value is None else torch.full_like(
                gt, float(self.value))
            ds.output = DataSample(pred_img=pred)
            out.append(ds)
        return out
