"""What the fusion-loss study compares: its tasks, variants and designs, and
where each run lives."""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VARIANTS = ('visible', 'infrared', 'fixed', 'learned', 'learned_scratch',
            'fixed_frozen', 'learned_frozen')
# (design, learned variant, fixed variant) of the paired differences.
DESIGNS = (('joint', 'learned', 'fixed'),
           ('frozen T', 'learned_frozen', 'fixed_frozen'))
WARM_RUN = 'stage1_fixed'
VOC_MAP50 = dict(type='mmdet.VOCMetric', metric='mAP', iou_thrs=[0.5],
                 eval_mode='area')
FUSION_METRICS = ('EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM')
TASKS = {
    'demo': dict(
        title='Detection on the synthetic demo scenes: small YOLOX, '
        'People and Car',
        kind='det', config='configs/tdfusion_yolo_demo.py',
        downstream='configs/downstream/yolox_tiny_demo.py',
        score='mAP@0.5', score_key='pascal_voc/mAP'),
    'seg': dict(
        title='Segmentation: SegFormer-B0 on MSRS (real, bench split)',
        kind='seg', config='configs/tdfusion_segformer_msrs.py',
        downstream='configs/downstream/segformer_mit-b0_msrs_bench.py',
        score='mIoU', score_key='mIoU'),
    'det': dict(
        title='Detection: YOLOX-tiny on LLVIP (real, person)',
        kind='det', config='configs/tdfusion_yolo_llvip.py',
        downstream='configs/downstream/yolox_tiny_llvip_held_out.py',
        score='mAP@0.5', score_key='pascal_voc/mAP'),
}


def run_dir(args, task: str, variant: str, seed: int) -> str:
    """The work dir of a run."""
    name = WARM_RUN if variant == WARM_RUN else f'{variant}_seed{seed}'
    return osp.join(args.work_dir, task, name)


def warm_checkpoint(args, task: str) -> str:
    """The stage-1 checkpoint that the variants continue from."""
    return osp.join(run_dir(args, task, WARM_RUN, 0),
                    f'epoch_{args.budget[task]["warm_epochs"]}.pth')


def task_score(task: str, metrics: dict) -> float:
    """mIoU in %, or mAP@0.5 in % (mmdet reports a fraction)."""
    key = TASKS[task]['score_key']
    return 100 * metrics[key] if key == 'pascal_voc/mAP' else metrics[key]
