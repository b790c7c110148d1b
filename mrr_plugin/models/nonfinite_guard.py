"""Training stops at the first non-finite loss term or gradient, before an optimizer step can take it.

A NaN loss makes NaN gradients, and one Adam step on them makes the weights NaN; BasicSR would then carry on and
save them as ``net_g_latest.pth``. The guard watches every loss module's output (to name the term) and checks every
optimizer's gradients just before its step; a non-finite gradient raises :class:`NonFiniteTraining` there, so the
weights (and everything saved from them) stay the last finite ones. Under DDP the gradients are all-reduced before
the step, so every rank sees the same non-finite gradient and stops at the same point (none waits for another).

With ``train.nonfinite: skip`` the training pipeline instead drops such a step (:meth:`NonFiniteGuard.skip`: the
gradients are cleared, the weights and optimizer states stay as they were, a warning line and the log's
``nonfinite_skips`` count it) and stops only after ``train.max_nonfinite_skips`` (default 10) skipped steps in a row.
"""
import torch
from torch import nn

NONFINITE_EXIT = 3  # exit status of the train/test entry points when they stop for a non-finite value


NONFINITE_MODES = ('stop', 'skip')


class NonFiniteTraining(RuntimeError):
    """A loss term or gradient became NaN or infinite; the optimizer step was not taken. ``what`` says where."""

    def __init__(self, what, message=None):
        super().__init__(message or f'{what}; stopped before the optimizer step, so the weights and every checkpoint '
                         'and state saved so far are finite.')
        self.what = what


class NonFiniteOutput(ValueError):
    """A network under test outputs NaN or infinity; it is not scored."""


def loss_modules(model):
    """``(name, module)`` of every loss a model built: its ``cri_*`` attributes and the entries of a ``cri`` dict."""
    found = []
    for name, value in vars(model).items():
        if name.startswith('cri_') and isinstance(value, nn.Module):
            found.append((name, value))
        elif name == 'cri' and isinstance(value, dict):
            found += [(key, module) for key, module in value.items() if isinstance(module, nn.Module)]
    return found


class NonFiniteGuard:
    """Hooks on a model's losses and optimizers (see the module docstring); ``start(iteration)`` before each step."""

    def __init__(self, model):
        train_opt = getattr(model, 'opt', {}).get('train') or {}
        self.mode = train_opt.get('nonfinite', 'stop')
        self.max_skips = train_opt.get('max_nonfinite_skips', 10)
        self.in_a_row = self.skipped = 0
        self.optimizers = model.optimizers
        self.iteration = 0
        self.terms = []
        for name, module in loss_modules(model):
            module.register_forward_hook(self._loss_hook(name))
        networks = {id(p): name for name, net in vars(model).items() if name.startswith('net_')
                    and isinstance(net, nn.Module) for p in net.parameters()}
        for optimizer in model.optimizers:
            first = next((p for group in optimizer.param_groups for p in group['params']), None)
            optimizer.register_step_pre_hook(self._gradient_hook(networks.get(id(first), 'optimizer')))

    def start(self, iteration):
        self.iteration = iteration
        self.terms.clear()

    def step_taken(self):
        self.in_a_row = 0

    def skip(self, error, logger):
        """With ``train.nonfinite: skip``, drop the step ``error`` stopped (clear every gradient, warn) and return;
        else, or after ``max_nonfinite_skips`` skipped steps in a row, raise ``error`` (or one saying so)."""
        if self.mode != 'skip':
            raise error
        if self.in_a_row >= self.max_skips:
            raise NonFiniteTraining(error.what, f'{error.what}; {self.max_skips} steps in a row were skipped before '
                                    'it (train.max_nonfinite_skips), so the run stops here; every checkpoint and '
                                    'state saved so far is finite.') from None
        self.in_a_row += 1
        self.skipped += 1
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=True)
        logger.warning(f'train.nonfinite: skip: {error.what}; step skipped ({self.in_a_row} in a row, '
                       f'{self.skipped} in this run).')

    def _loss_hook(self, name):
        def hook(module, inputs, output):
            for value in output if isinstance(output, (tuple, list)) else (output, ):
                if torch.is_tensor(value) and not bool(torch.isfinite(value).all()):
                    self.terms.append(f'{name} = {value.detach().float().sum().item()}')
        return hook

    def _gradient_hook(self, network):
        def hook(optimizer, args, kwargs):
            grads = [p.grad for group in optimizer.param_groups for p in group['params'] if p.grad is not None]
            if grads and not bool(torch.stack([torch.isfinite(g).all() for g in grads]).all()):
                what = 'loss ' + ', '.join(self.terms) if self.terms else 'gradient (all loss terms finite)'
                raise NonFiniteTraining(f'iteration {self.iteration}: non-finite {what} in the {network} step')
        return hook
