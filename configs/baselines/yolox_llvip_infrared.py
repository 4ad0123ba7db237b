# Baseline: YOLOX-tiny on the infrared image alone (grey, 3 channels), with
# the data, task size and schedule of TDFusion on LLVIP. F is not trained.
_base_ = ['../tdfusion_yolo_llvip.py']

model = dict(task_input='infrared')
train_cfg = dict(meta_steps=0)
