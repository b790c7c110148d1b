"""A dataset seen through another: the base of the training pipeline's sample wrappers."""
from torch.utils.data import Dataset


class DatasetWrapper(Dataset):
    """Same length as ``dataset`` and its attributes (``opt``, ``paths``, ...: BasicSR's validation reads ``opt``);
    subclasses change ``__getitem__``."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getattr__(self, name):
        if name == 'dataset':  # not set yet (e.g. while a loader worker unpickles the wrapper)
            raise AttributeError(name)
        return getattr(self.dataset, name)
