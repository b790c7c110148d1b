"""ONNX export of face-SR networks (torch's dynamo exporter) and an onnxruntime network with the torch call
convention, so the restorer runs either. Needs the optional ``onnx`` extra (onnx, onnxscript, onnxruntime).

The face geometry (LR input side, HR output side, training crop) travels inside the file as metadata, so an exported
model restores photos on its own.
"""
import atexit
import contextlib
import copy
import io
import os
import shutil
import tempfile
import warnings
from os import path as osp

import numpy as np
import torch

ONNX_EXTRA = 'the ONNX path needs the onnx extra: pip install "mrr_plugin[onnx]" (onnx, onnxscript, onnxruntime).'
# onnxruntime's 'all' level swaps in NCHWc convolution kernels that move MRRNet's outputs by up to 8e-3 (measured on
# real faces); 'basic' keeps them within 2e-5 of torch at the same speed here.
GRAPH_OPTIMIZATION = 'ORT_ENABLE_BASIC'


def export_onnx(network, path, lr_size, hr_size, alignment='dic', dynamic_batch=False, opset=18, name='model'):
    """Write ``network`` (LR (N, 3, lr, lr) in [0, 1] -> SR) to ``path`` atomically with its geometry as metadata.
    ``dynamic_batch``: any batch size; else batch 1."""
    try:
        import onnx
        import onnxscript  # noqa: F401  (the dynamo exporter needs it)
    except ImportError as error:
        raise ImportError(ONNX_EXTRA) from error
    network = copy.deepcopy(network).eval().cpu()
    if hasattr(network, 'inference_chunk'):
        network.inference_chunk = 0  # an eager-CPU memory device: its batch-size test has no place in a graph
    example = torch.rand(2 if dynamic_batch else 1, 3, lr_size, lr_size)
    shapes = {'x': {0: torch.export.Dim('batch', min=1, max=4096)}} if dynamic_batch else None
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.partial'
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # the exporter's progress lines and tracing notes are not the user's business
        program = torch.onnx.export(network, (example, ), dynamo=True, opset_version=opset, input_names=['lr'],
                                    output_names=['sr'], dynamic_shapes=shapes, external_data=False, verbose=False)
    model = program.model_proto
    onnx.helper.set_model_props(model, {'mrr_plugin.lr_size': str(lr_size), 'mrr_plugin.hr_size': str(hr_size),
                                        'mrr_plugin.alignment': alignment, 'mrr_plugin.name': name})
    onnx.save(model, tmp)
    os.replace(tmp, path)
    return path


class OnnxNetwork:
    """An exported face network run by onnxruntime, called like the torch module: (N, 3, h, w) tensor -> tensor.

    ``in_size`` / ``upscale`` follow the face-SR skeleton's attributes so :class:`FaceModel` reads its geometry.
    """

    def __init__(self, path, threads=None):
        try:
            import onnxruntime as ort
        except ImportError as error:
            raise ImportError(ONNX_EXTRA) from error
        if not osp.isfile(path):
            raise FileNotFoundError(f'--model {path} does not exist.')
        options = ort.SessionOptions()
        options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_OPTIMIZATION)
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
        meta = self.session.get_modelmeta().custom_metadata_map
        if 'mrr_plugin.lr_size' not in meta:
            raise ValueError(f'--model {path} was not written by mrr_plugin.export_onnx (it has no face geometry).')
        self.lr_size, self.hr_size = int(meta['mrr_plugin.lr_size']), int(meta['mrr_plugin.hr_size'])
        self.in_size, self.upscale = self.hr_size, self.hr_size // self.lr_size
        self.alignment, self.name = meta['mrr_plugin.alignment'], meta['mrr_plugin.name']
        self.fixed_batch = self.session.get_inputs()[0].shape[0]
        self.fixed_batch = self.fixed_batch if isinstance(self.fixed_batch, int) else None

    def __call__(self, batch):
        array = batch.detach().float().cpu().numpy()
        step = self.fixed_batch or len(array)
        outputs = [self.session.run(None, {'lr': array[i:i + step]})[0] for i in range(0, len(array), step)]
        return torch.from_numpy(np.concatenate(outputs)).to(batch.device)


def temporary_onnx_network(network, model):
    """``network`` exported with ``model``'s geometry (:class:`~.face_restorer.FaceModel`) to a temporary file that
    is removed at exit, as an :class:`OnnxNetwork`."""
    folder = tempfile.mkdtemp(prefix='mrr_restore_')
    atexit.register(shutil.rmtree, folder, True)
    path = osp.join(folder, 'model.onnx')
    print(f'exporting {model.name} to {path} for onnxruntime ...', flush=True)
    export_onnx(network, path, model.lr_size, model.hr_size, model.alignment, True, name=model.name)
    return OnnxNetwork(path)
