"""spn_mm.evaluation.aggregate / report on hand-made per-image records."""
import csv
import json
import math

from spn_mm.evaluation import bucket_summary, format_table, write_summary


def _rec(ratio, psnr, ssim, mae, best):
    return dict(ratio=ratio, K=len(psnr), best=best, psnr=psnr, ssim=ssim,
                mae=mae, capped=[p >= 100 for p in psnr], lpips_div=0.5,
                lpips_div_hole=0.25)


RECORDS = [
    _rec(0.10, [20., 30.], [0.5, 0.7], [0.2, 0.1], 1),
    _rec(0.30, [25., 21.], [0.8, 0.6], [0.05, 0.3], 0),
    _rec(0.35, [100., 40.], [1.0, 0.9], [0.0, 0.01], 0),
    _rec(0.90, [10., 12.], [0.1, 0.2], [0.5, 0.4], 1),  # out of range
]


def test_bucket_summary_best_and_mean_of_k_by_hand():
    out = bucket_summary([dict(r) for r in RECORDS], (0.0, 0.2, 0.4, 0.6),
                         mae_scaling=100., with_lpips=True)
    assert out['0.0-0.2/count'] == 1 and out['0.2-0.4/count'] == 2
    assert out['0.4-0.6/count'] == 0 and out['All/count'] == 4
    assert out['out_of_range/count'] == 1
    assert out['0.2-0.4/PSNR'] == (25. + 100.) / 2
    assert out['0.2-0.4/SSIM'] == (0.8 + 1.0) / 2
    assert math.isclose(out['0.2-0.4/MAE'], (0.05 + 0.0) / 2 * 100.)
    assert out['0.2-0.4/PSNR_capped_count'] == 1
    assert out['All/PSNR'] == (30. + 25. + 100. + 12.) / 4
    assert out['All/PSNR_meanK'] == (25. + 23. + 70. + 11.) / 4
    assert math.isclose(out['All/MAE_meanK'],
                        (0.15 + 0.175 + 0.005 + 0.45) / 4 * 100.)
    assert out['All/K'] == 2 and out['All/LPIPS_div'] == 0.5
    assert math.isnan(out['0.4-0.6/PSNR'])  # empty bucket
    assert 'All/FID' not in out


def test_table_and_summary_files(tmp_path):
    out = bucket_summary([dict(r) for r in RECORDS], (0.0, 0.2, 0.4, 0.6))
    cols = ['0.0-0.2', '0.2-0.4', '0.4-0.6', 'All']
    table = format_table('title line', out, cols)
    lines = table.splitlines()
    assert lines[0] == 'title line'
    cells = {
        c[0]: c[1:]
        for c in ([x.strip() for x in line.strip('|').split('|')]
                  for line in lines[1:] if line.startswith('|'))
    }
    assert cells['Metric'] == cols
    # (30+25+100+12)/4, best-of-K; the empty bucket shows nan
    assert cells['PSNR'] == ['30.0000', '62.5000', 'nan', '41.7500']
    assert cells['count'] == ['1', '2', '0', '4']
    jpath, cpath = write_summary(str(tmp_path), 'stem', dict(seed=1), out,
                                 cols)
    data = json.load(open(jpath))
    assert data['seed'] == 1 and data['metrics']['0.4-0.6/PSNR'] is None
    rows = list(csv.reader(open(cpath)))
    assert rows[0] == ['metric'] + cols
    assert ['count', '1', '2', '0', '4'] in rows
