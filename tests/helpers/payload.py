"""A pickled object that runs code when loaded: the hostile content of checkpoint and state files in tests."""


class Payload:
    """Unpickling this object calls ``open(marker, 'w')``, creating the file ``marker``: a loader that runs code
    from a file leaves the marker behind."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))
