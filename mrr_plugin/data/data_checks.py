"""Data checks before a run: every face a dataset will read, without training on it.

- image folders: every image file's header (PIL opens it without decoding the pixels: empty files, non-images and
  broken headers are found in seconds even for 200k faces); ``full=True`` decodes every image (truncated files);
- LMDBs: the ``meta_info.txt`` every BasicSR LMDB has (keys and sizes), and ``build_info.json`` when ours;
- paired sets (``dataroot_gt`` + ``dataroot_lq``): the same face keys on both sides, LR size x scale = HR size, and
  both LMDBs from the same build (a killed paired rebuild is first completed).

Each problem is one sentence naming the option and the file; at most a few files are listed per problem.
"""
import io
from os import path as osp

from tqdm import tqdm

from mrr_plugin.data.face_image_io import BadImageError, decode_rgb, image_size, read_image
from mrr_plugin.data.face_landmarks import landmark_problems
from mrr_plugin.data.face_lmdb import finish_interrupted_replacement, read_build_info
from mrr_plugin.data.image_folder import ImageFolderError, listed, scan_images
from mrr_plugin.utils.lmdb_file import DamagedLmdbError, lmdb_environment

LISTED = 5  # files named per problem
PROGRESS_FROM = 5000  # folders with at least this many files show a progress bar while they are scanned


def lmdb_faces(root):
    """``{key: (height, width)}`` from an LMDB's ``meta_info.txt``; ValueError naming a malformed line."""
    faces = {}
    with open(osp.join(root, 'meta_info.txt')) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                name, shape = line.split(' (')[:2]
                height, width = (int(v) for v in shape.split(')')[0].split(',')[:2])
            except ValueError:
                raise ValueError(f'{root}/meta_info.txt line {number} is not '
                                 '"<key>.png (<h>,<w>,<c>) <level>"') from None
            faces[name.split('.')[0]] = (height, width)
    return faces


def folder_faces(root, full=False):
    """``({file name: (height, width) or None if bad}, {file name: reason})`` of the images directly in a folder
    (as BasicSR and the face datasets list them; :func:`~mrr_plugin.data.image_folder.scan_images`: entries named
    like images that are not regular files are bad): headers only, or every image decoded with ``full``."""
    scan = scan_images(root)
    faces, bad = dict.fromkeys(scan.bad), dict(scan.bad)
    # a bar only where the scan takes a while (CelebA's 200k faces: about a minute of headers)
    for name in tqdm(scan.names, desc=f'checking {root}', unit='file', leave=False,
                     disable=len(scan.names) < PROGRESS_FROM):
        path = osp.join(root, name)
        try:
            width, height = read_image(path, name=name).size if full else image_size(path, name=name)
        except BadImageError as error:
            bad[name], faces[name] = str(error), None
            continue
        faces[name] = (height, width)
    return faces, bad


def _record_problems(txn, faces, full, root):
    """{key: reason} of the records that are missing, empty, not images or not of their listed size."""
    bad = {}
    for key in tqdm(sorted(faces), desc=f'checking {root}', unit='face', leave=False,
                    disable=len(faces) < PROGRESS_FROM):
        value = txn.get(key.encode('ascii', 'replace'))
        if not value:
            bad[key] = f'{key}: {"missing" if value is None else "empty record"}'
            continue
        try:
            width, height = decode_rgb(value, key).size if full else image_size(io.BytesIO(value), name=key)
        except BadImageError as error:
            bad[key] = str(error)
            continue
        if (height, width) != tuple(faces[key]):
            bad[key] = f'{key}: {width}x{height}, meta_info.txt says {faces[key][1]}x{faces[key][0]}'
    return bad


def lmdb_record_problems(root, faces, full=False):
    """Every record of an LMDB that ``meta_info.txt`` lists (``faces``: {key: (height, width)}) is present, holds
    an image whose header (``full``: decoded pixels) has the listed size. The file itself is validated before it is
    mapped (:func:`~mrr_plugin.utils.lmdb_file.open_lmdb`); one sentence per problem, a few keys named."""
    import lmdb
    try:
        with lmdb_environment(root) as env, env.begin(write=False) as txn:
            bad = _record_problems(txn, faces, full, root)
    except (DamagedLmdbError, FileNotFoundError) as error:  # damaged, or data.mdb missing
        return [str(error)]
    except lmdb.Error as error:  # MDB_CORRUPTED and the like: LMDB's own consistency checks
        return [f'{root}: the LMDB is corrupted ({str(error).splitlines()[0]}); copy or build it again.']
    if not bad:
        return []
    return [f'{root}: {len(bad)} record(s) are missing or not the images meta_info.txt lists: '
            f'{listed(bad.values(), LISTED)}.']


def dataset_problems(where, dataset, scale, full=False, labels=None):
    """Problems of the faces of one dataset's options (``where`` e.g. ``datasets.train``; ``labels`` may name the
    roots otherwise, e.g. ``{'dataroot_gt': '--hr'}``); roots that do not exist are reported elsewhere
    (option_values.path_problems)."""
    labels = labels or {}
    root_labels = {key: labels.get(key, f'{where}.{key}') for key in dataset}
    problems, faces, backends = [], {}, {}
    for key, root in dataset.items():
        if not key.startswith('dataroot') or not isinstance(root, str) or not osp.exists(root):
            continue
        backend = dataset.get(f'io_backend{key[len("dataroot"):]}', dataset.get('io_backend')) or {}
        backends[key] = backend.get('type')
        if backend.get('type') == 'lmdb':
            if finish_interrupted_replacement(root):
                print(f'note: completed the interrupted replacement of the paired LMDB {root}.', flush=True)
            if not osp.isfile(osp.join(root, 'meta_info.txt')):
                continue  # reported by path_problems
            try:
                faces[key] = lmdb_faces(root)
            except ValueError as error:
                problems.append(f'{root_labels[key]}: {error}.')
                continue
            problems += [f'{root_labels[key]}: {problem}' for problem in lmdb_record_problems(root, faces[key], full)]
        else:
            try:
                faces[key], bad = folder_faces(root, full)
            except ImageFolderError as error:
                problems.append(f'{root_labels[key]}: {error}')
                continue
            if bad:
                problems.append(f'{root_labels[key]}: {len(bad)} file(s) of {root} are not readable images: '
                                f'{listed(bad.values(), LISTED)}')
            if not faces[key]:
                problems.append(f'{root_labels[key]}: {root} holds no images.')
    if isinstance(dataset.get('landmarks'), str) and 'dataroot_gt' in faces:
        problems += landmark_problems(f'{where}.landmarks' if where else 'landmarks', dataset['landmarks'],
                                      faces['dataroot_gt'])
    if 'dataroot_gt' in faces and 'dataroot_lq' in faces:
        names = labels.get('dataroot_gt', 'dataroot_gt'), labels.get('dataroot_lq', 'dataroot_lq')
        problems += _pair_problems(f'{where}: ' if where else '', names, dataset, faces['dataroot_gt'],
                                   faces['dataroot_lq'], scale, lmdb=backends['dataroot_gt'] == 'lmdb')
    return problems


def _pair_problems(prefix, names, dataset, hr, lr, scale, lmdb):
    """HR and LR faces pair up as BasicSR pairs them: LMDB keys equal (``lmdb``); in folders the LR file of
    ``<stem><ext>`` is ``filename_tmpl.format(<stem>)<ext>``. ``names``: how the two roots are called in messages."""
    problems = []
    template = dataset.get('filename_tmpl', '{}')
    partner = {k: k if lmdb else template.format(osp.splitext(k)[0]) + osp.splitext(k)[1] for k in hr}
    missing, extra = set(partner.values()) - set(lr), set(lr) - set(partner.values())
    if missing or extra:
        problems.append(f'{prefix}{names[0]} and {names[1]} hold different faces ({len(missing)} HR face(s) without '
                        f'LR: {listed(missing, LISTED) or "-"}; {len(extra)} LR face(s) without HR: '
                        f'{listed(extra, LISTED) or "-"}).')
    if isinstance(scale, int) and scale > 0:
        wrong = sorted(k for k, p in partner.items()
                       if hr[k] and lr.get(p) and tuple(s * scale for s in lr[p]) != hr[k])
        if wrong:
            (lr_h, lr_w), (hr_h, hr_w) = lr[partner[wrong[0]]], hr[wrong[0]]
            problems.append(f'{prefix}{len(wrong)} LR face(s) x scale {scale} do not give their HR size, e.g. '
                            f'{wrong[0]}: LR {lr_w}x{lr_h}, HR {hr_w}x{hr_h}.')
    builds = [read_build_info(dataset[key]) for key in ('dataroot_gt', 'dataroot_lq')]
    if all(builds) and builds[0].get('build_id') != builds[1].get('build_id'):
        problems.append(f'{prefix}{names[0]} {dataset["dataroot_gt"]} and {names[1]} {dataset["dataroot_lq"]} come '
                        'from different builds of scripts/create_face_lmdb.py; rebuild them together.')
    return problems
