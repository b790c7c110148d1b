"""Offline dataset preparation (not datasets): crops of the published protocols, annotation readers, face detection
for unannotated photos, the built-in synthetic faces, and the commands that use them (``prepare_celeba``,
``prepare_helen``, ``prepare_ffhq``, ``prepare_faces``, ``create_face_lmdb``, ``degrade_faces``; installed as
``mrr-prepare-celeba`` etc.). The datasets that read the results live in :mod:`mrr_plugin.data`."""
