"""Mixed-precision training and validation: ``train.precision`` / ``val.precision`` = ``fp32`` | ``bf16`` | ``fp16``.

The networks' forward passes (generator, discriminators, the perceptual loss's VGG) run under ``torch.autocast``
with the chosen dtype; everything else stays float32 on purpose:

- parameters, gradients, optimizer states and the EMA copy are float32 (autocast casts weights per op), so
  checkpoints are float32 and load anywhere;
- every loss module receives float32 inputs (:func:`float32_inputs`, a forward pre-hook), so the losses'
  differences and reductions are float32 while the VGG inside a perceptual loss still runs in low precision;
- fp16 (CUDA only) scales the loss with a ``GradScaler`` whose state is part of the training state, so a resumed run
  continues with the same scale; bf16 needs no scaling (float32's exponent range) and runs on CPU and CUDA.

Layers that must stay float32 inside an autocast region say so where they are (e.g. the PIL-exact resize).
"""
import torch

PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


def check_precision(precision, device_type, where='train.precision'):
    """A one-sentence ValueError unless ``precision`` can run on ``device_type``."""
    if precision not in PRECISIONS:
        raise ValueError(f"{where}: must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    if precision == 'fp16' and device_type != 'cuda':
        raise ValueError(f'{where}: fp16 needs a CUDA device (it relies on loss scaling there); on CPU use bf16.')


def autocast(precision, device_type):
    """``torch.autocast`` to ``precision``'s dtype on ``device_type`` (a no-op context for fp32)."""
    dtype = PRECISIONS[precision]
    return torch.autocast(device_type, dtype=dtype or torch.float32, enabled=dtype is not None)


def _to_float32(value):
    if torch.is_tensor(value) and value.is_floating_point() and value.dtype != torch.float32:
        return value.float()
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float32(v) for v in value)
    return value


def float32_inputs(module, args, kwargs):
    """Forward pre-hook of a loss module: its tensor arguments (also inside lists, e.g. discriminator features) as
    float32, so the loss is computed and reduced in float32 under autocast."""
    return _to_float32(args), {key: _to_float32(value) for key, value in kwargs.items()}


class MixedPrecision:
    """Autocast and (for fp16) loss scaling of one model's training steps."""

    def __init__(self, precision, device):
        check_precision(precision, device.type)
        self.precision = precision
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler('cuda') if precision == 'fp16' else None

    def autocast(self):
        """The context of a step's forward passes and losses (a no-op for fp32)."""
        return autocast(self.precision, self.device_type)

    def backward_step(self, loss, optimizer):
        """``loss.backward(); optimizer.step()``, through the GradScaler for fp16 (a step with inf/NaN gradients from
        fp16 overflow is skipped by the scaler, which then lowers the scale)."""
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)

    def update(self):
        """Once per iteration, after every optimizer of the iteration has stepped."""
        if self.scaler is not None:
            self.scaler.update()

    def state_dict(self):
        return {'grad_scaler': self.scaler.state_dict()} if self.scaler is not None else {}

    def load_state_dict(self, state):
        if self.scaler is not None and state.get('grad_scaler'):
            self.scaler.load_state_dict(state['grad_scaler'])
