# Evaluation protocol shared by every SPN dataset config (no dataset paths
# here). One SPNInpaintingMetric reports MAE / PSNR / SSIM (and FID) per
# mask-ratio bucket (0-0.2, 0.2-0.4, 0.4-0.6, All; taken from the manifest)
# in one pass, prints the paper-style table with the manifest hash and saves
# JSON + CSV in the run's log dir (<work_dir>/<timestamp>/).
#   compat='spn'    : the official SPN evaluation (composite, uint8
#                     truncation, skimage PSNR/SSIM 11x11 uniform, grey L1)
#   compat='mmagic' : mmagic's MAE(hole, x100) / PSNR / SSIM definitions
# Probabilistic models (K samples per input): the same metric reports
# best-of-K by PSNR, mean-of-K and FID over all samples; add
#   lpips_cfg=dict(backbone_path='checkpoints/alexnet-owt-7be5be79.pth')
# for the LPIPS diversity inside the hole.
val_evaluator = dict(
    type='Evaluator',
    metrics=[
        dict(type='SPNInpaintingMetric', compat='spn', save_results=False)
    ])
# Paper table: MAE/PSNR/SSIM + FID per mask-ratio bucket. FID needs the local
# pytorch-fid weights (no download); set fid_cfg=None to skip FID.
test_evaluator = dict(
    type='Evaluator',
    metrics=[
        dict(
            type='SPNInpaintingMetric',
            compat='spn',
            fid_cfg=dict(inception_path='checkpoints/'
                         'pt_inception-2015-12-05-6726825d.pth'))
    ])

val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
