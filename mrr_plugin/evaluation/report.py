"""Benchmark outputs people look at: results.md / results.csv, a labelled grid, attention heat-maps."""
import csv
import os
import os.path as osp

import cv2
import numpy as np
import torch

from mrr_plugin.evaluation.runner import DEFAULT_PROTOCOLS, columns
from mrr_plugin.utils.visual import labelled_grid, tensor_to_rgb, write_png


def _cell(record, key, fmt, interval=None):
    value = record['results'].get(key)
    if value is None:
        return ''
    if interval is None:
        return fmt.format(value)
    return f'{fmt.format(value)} [{fmt.format(interval.low)}, {fmt.format(interval.high)}]'


def write_tables(records, out_dir, context, protocols=DEFAULT_PROTOCOLS, comparison=None):
    """``results.md`` (with protocol notes and reasons for empty columns) and ``results.csv``: one PSNR/SSIM
    column pair per protocol. With a :class:`~mrr_plugin.evaluation.comparisons.Comparison`, every per-face metric
    carries its confidence interval over faces (CSV: ``<key>_low`` / ``<key>_high``), and ``results.md`` /
    ``differences.csv`` list the paired difference of every pair of methods with its interval and Wilcoxon p."""
    noted = {key for r in records for key in r.get('notes', {})}
    table_columns = [column for column in columns(protocols)  # a column nobody has and nothing explains: left out
                     if column[0] in noted or any(r['results'].get(column[0]) is not None for r in records)]
    intervals = comparison.intervals if comparison else {}
    header = ['Method'] + [title for _, title, _, _ in table_columns]
    rows = [[r['name']] + [_cell(r, key, fmt, intervals.get(r['name'], {}).get(key))
                           for key, _, fmt, _ in table_columns] for r in records]
    lines = [f'# Face SR benchmark: {context}', '', '| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    if comparison:
        lines += ['', f'[low, high]: {comparison.interval_words()} of the mean over the {comparison.bootstrap.n} '
                  'faces.']
    lines += ['', 'Columns:'] + [f'- {title}: {note}' for _, title, _, note in table_columns if note]
    lines += ['', 'Methods:'] + [f'- {r["name"]}: {r["description"]}' for r in records]
    empty = {key: note for r in records for key, note in r.get('notes', {}).items()}
    if empty:
        lines += ['', 'Empty columns:'] + [f'- {key}: {note}' for key, note in sorted(empty.items())]
    if os.path.exists(osp.join(out_dir, 'differences.csv')):  # a previous run's, of other methods or options
        os.remove(osp.join(out_dir, 'differences.csv'))
    if comparison:
        lines += _difference_lines(comparison, table_columns, out_dir)
    csv_columns = [(key, suffix) for key, _, _, _ in table_columns
                   for suffix in ('', '_low', '_high') if not suffix or any(key in i for i in intervals.values())]
    with open(osp.join(out_dir, 'results.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(osp.join(out_dir, 'results.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['method'] + [key + suffix for key, suffix in csv_columns])
        for r in records:
            writer.writerow([r['name']] + [_csv_value(r, intervals, key, suffix) for key, suffix in csv_columns])
    return '\n'.join(lines)


def _csv_value(record, intervals, key, suffix):
    if not suffix:
        return record['results'].get(key, '')
    interval = intervals.get(record['name'], {}).get(key)
    return '' if interval is None else getattr(interval, suffix[1:])


def _difference_lines(comparison, table_columns, out_dir):
    """The paired-difference table of results.md (rows: pairs, columns: per-face metrics) and differences.csv."""
    differences = comparison.differences
    with open(osp.join(out_dir, 'differences.csv'), 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['a', 'b', 'metric', 'a_minus_b', 'low', 'high', 'wilcoxon_p', 'interval_excludes_zero'])
        for d in differences:
            writer.writerow([d.a, d.b, d.key, d.interval.value, d.interval.low, d.interval.high, d.p_value,
                             d.distinguishable()])
    keys = [column for column in table_columns if any(d.key == column[0] for d in differences)]
    if not keys:
        return []
    by_pair = {}
    for d in differences:
        by_pair.setdefault((d.a, d.b), {})[d.key] = d
    lines = ['', f'## Paired differences (A - B over the same {comparison.bootstrap.n} faces)', '',
             '| A - B | ' + ' | '.join(title for _, title, _, _ in keys) + ' |', '|' + '---|' * (len(keys) + 1)]
    for (a, b), found in by_pair.items():
        cells = [_difference_cell(found.get(key), fmt) for key, _, fmt, _ in keys]
        lines.append(f'| {a} - {b} | ' + ' | '.join(cells) + ' |')
    return lines + ['', f'[low, high]: {comparison.interval_words()} of the mean paired difference; p: two-sided '
                    'Wilcoxon signed-rank test of the per-face differences (scipy.stats.wilcoxon); ≈0: the interval '
                    'contains zero, these faces do not tell the two methods apart. In ↓ columns a negative '
                    'difference favours A.']


def _difference_cell(difference, fmt):
    """``+0.31 [+0.12, +0.50] p=0.003`` (``≈0`` appended when the interval contains zero)."""
    if difference is None:
        return ''
    signed = fmt.replace('{:', '{:+')
    interval = difference.interval
    return (f'{signed.format(interval.value)} [{signed.format(interval.low)}, {signed.format(interval.high)}] '
            f'p={difference.p_value:.2g}' + ('' if difference.distinguishable() else ' ≈0'))


def write_grid(records, faces, out_dir, grid_faces=6):
    """``grid.png``: LR | each method (bicubic first) | HR (when there is ground truth) for the first
    ``grid_faces`` faces."""
    rows = []
    with_hr = bool(faces) and faces[0][2] is not None
    for name, lr, hr in faces[:grid_faces]:
        row = [lr]
        for record in records:
            path = osp.join(out_dir, 'sr', record['name'], f'{name}.png')
            row.append(cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB))
        rows.append(row + [hr] if with_hr else row)
    labels = ['LR'] + [r['name'] for r in records] + (['HR'] if with_hr else [])
    write_png(osp.join(out_dir, 'grid.png'), labelled_grid(rows, labels))


def heat_overlay(face, attention, alpha=0.5):
    """RGB face with a JET colour map of an attention map (any size, values in [0, 1]) blended on top."""
    attention = cv2.resize(np.asarray(attention, np.float32), face.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap((np.clip(attention, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
    return (alpha * cv2.cvtColor(heat, cv2.COLOR_BGR2RGB) + (1 - alpha) * face).round().astype(np.uint8)


def write_attention_maps(method, faces, out_dir, blocks=None, grid_faces=6, device='cpu'):
    """``attention/<method>.png``: per face the SR output and its attention over chosen blocks (MRRNet Fig. 4,
    SPARNet Fig. 6). Multi-channel (3-D) maps are averaged over channels. Returns the path or None."""
    network = method.network
    if network is None or not hasattr(network, 'attention_maps'):
        return None
    rows, labels = [], None
    for _, lr, _ in faces[:grid_faces]:
        with torch.no_grad():
            sr = network(torch.from_numpy(lr.astype(np.float32).transpose(2, 0, 1))[None].to(device) / 255.0)
        maps = network.attention_maps()
        if not maps:
            return None
        chosen = blocks or _default_blocks(list(maps))
        sr = tensor_to_rgb(sr[0])
        rows.append([sr] + [heat_overlay(sr, maps[b][0].mean(0).cpu().numpy()) for b in chosen])
        labels = ['SR'] + [b.replace('.att_func', '') for b in chosen]
    os.makedirs(osp.join(out_dir, 'attention'), exist_ok=True)
    path = osp.join(out_dir, 'attention', f'{method.name}.png')
    write_png(path, labelled_grid(rows, labels))
    return path


def _default_blocks(names):
    """First encoder block, the middle body block and the last decoder block."""
    encoder = [n for n in names if n.startswith('encoder')]
    body = [n for n in names if n.startswith('res_layers')]
    decoder = [n for n in names if n.startswith('decoder')]
    return [group[index] for group, index in ((encoder, 0), (body, len(body) // 2), (decoder, -1)) if group]
