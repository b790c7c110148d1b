"""Offline dataset preparation (not datasets): crops of the published protocols, annotation readers, face
detection for unannotated photos and the built-in synthetic faces. The commands are in
:mod:`mrr_plugin.preparation.commands`; the datasets that read the results live in :mod:`mrr_plugin.data`."""
