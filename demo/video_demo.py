"""Fuse an infrared and a visible video (or two folders of frames) into one
video with the task network's detections or masks drawn.

    python demo/video_demo.py IR VIS CONFIG CHECKPOINT --out fused.mp4

IR and VIS are two video files (frames taken in step; the shorter ends the
output, and a warning says how many frames of the longer were dropped) or
two folders of frames matched by file name. The output has the visible
video's frame rate (``--fps`` for folders, default 25) and shows the
fused frames with T's predictions (``--panels``: IR | visible | fused). It
is written under a temporary name and renamed when complete. Prints the
frames per second of the whole loop.
"""
import argparse
import os
import os.path as osp
import sys
import time

import cv2

from tdfusion_mm.apis import (FusionInferencer, UserError, match_folders,
                              read_image)
from tdfusion_mm.utils import tune_malloc
from tdfusion_mm.utils.cli import add_shared_args
from tdfusion_mm.utils.user_errors import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('ir', help='infrared video or folder of frames')
    parser.add_argument('vis', help='visible video or folder of frames')
    add_shared_args(parser, 'config', 'checkpoint')
    parser.add_argument('--out', required=True,
                        help='output video (.mp4 or .avi)')
    parser.add_argument('--fps', type=float, default=25.0,
                        help='frame rate of the output for frame folders')
    parser.add_argument('--panels', action='store_true',
                        help='write IR | visible | fused frames')
    parser.add_argument('--show', action='store_true',
                        help='show the frames in a window')
    add_shared_args(parser, 'device', 'pred_score_thr', 'debug')
    return parser.parse_args(argv)


def open_video(path: str):
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise UserError(f'cannot open the video {path}')
    return capture


def frame_pairs(ir: str, vis: str):
    """(frame rate or None, iterator of (ir frame, visible frame))."""
    if osp.isdir(ir) and osp.isdir(vis):
        pairs = match_folders([ir, vis])
        return None, ((read_image(i), read_image(v)) for _, i, v in pairs)
    for path in (ir, vis):
        if not osp.isfile(path):
            raise UserError(f'not a video file or frame folder: {path}')
    ir_video, vis_video = open_video(ir), open_video(vis)

    def frames():
        count = 0
        while True:
            ok_ir, ir_frame = ir_video.read()
            ok_vis, vis_frame = vis_video.read()
            if not (ok_ir and ok_vis):
                break
            count += 1
            yield ir_frame, vis_frame
        if ok_ir or ok_vis:  # the longer video's frames after the last pair
            longer, rest = (ir, ir_video) if ok_ir else (vis, vis_video)
            dropped = 1
            while rest.grab():
                dropped += 1
            print(f'warning: {longer} has {count + dropped} frames, the '
                  f'other video {count}: its last {dropped} frame(s) were '
                  'dropped', file=sys.stderr)
        ir_video.release()
        vis_video.release()

    return vis_video.get(cv2.CAP_PROP_FPS) or None, frames()


def main(args) -> None:
    tune_malloc()
    inferencer = FusionInferencer(args.config, args.checkpoint,
                                  device=args.device)
    fps, pairs = frame_pairs(args.ir, args.vis)
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    stem, ext = osp.splitext(osp.basename(args.out))
    tmp = osp.join(out_dir, f'.{stem}.tmp-{os.getpid()}{ext}')
    fourcc = cv2.VideoWriter_fourcc(*('mp4v' if ext.lower() == '.mp4'
                                      else 'MJPG'))
    writer, count = None, 0
    start = time.perf_counter()
    try:
        for ir_frame, vis_frame in pairs:
            result = inferencer(
                dict(ir=ir_frame, vis=vis_frame), return_vis=True,
                show=args.show, wait_time=0.001,
                pred_score_thr=args.pred_score_thr,
                vis_layout='panel' if args.panels else 'fused')
            frame = cv2.cvtColor(result['visualization'][0],
                                 cv2.COLOR_RGB2BGR)
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = cv2.VideoWriter(tmp, fourcc, fps or args.fps, size)
                if not writer.isOpened():
                    raise UserError(f'cannot write the video {args.out} '
                                    f'(codec for {ext!r})')
            writer.write(frame)
            count += 1
        if writer is None:
            raise UserError(f'no frames in {args.ir} and {args.vis}')
        writer.release()
        if not osp.getsize(tmp):
            raise UserError(f'cannot write the video {args.out}')
        try:
            os.replace(tmp, args.out)
        except OSError as err:
            raise UserError(f'cannot write {args.out}: {err.strerror}'
                            ) from err
    finally:
        if writer is not None:
            writer.release()
        if osp.exists(tmp):
            os.remove(tmp)
    elapsed = time.perf_counter() - start
    print(f'{count} frame(s) fused in {elapsed:.2f} s ({count / elapsed:.2f}'
          f' frames/s) -> {args.out}')


if __name__ == '__main__':
    cli_args = parse_args()
    sys.exit(run_tool(lambda: main(cli_args)))
