"""``index.html``: the benchmark as one self-contained page (no network access when opened).

The results table (sortable by any column, intervals shown), a per-face viewer (LR | bicubic | each method | HR,
pick a face, zoom to pixels: every image, LR included, drawn at the SR size times the zoom without smoothing), the
attention maps and two plots drawn as inline SVG: the per-face PSNR of every method with its mean and interval, and
the paired differences of every pair with their intervals. Images are embedded as PNG data URIs; the script is
inline and uses no library.
"""
import base64
import html
import json
import os
import os.path as osp

import cv2

from mrr_plugin.evaluation.runner import columns

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f0f0f0;cursor:pointer;user-select:none}td:first-child,th:first-child{text-align:left}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
.iv{color:#777;font-size:12px}.viewer{display:flex;flex-wrap:wrap;gap:8px}.viewer figure{margin:0;text-align:center}
.viewer img{image-rendering:pixelated;border:1px solid #ccc}figcaption{font-size:12px}
section{margin-bottom:2em}.att img{max-width:100%}
"""

SCRIPT = """
function sortTable(index){
  const table=document.getElementById('results');const body=table.tBodies[0];
  const header=table.tHead.rows[0].cells[index];
  const ascending=!header.classList.contains('sorted-asc');
  for(const cell of table.tHead.rows[0].cells){cell.classList.remove('sorted-asc','sorted-desc');}
  header.classList.add(ascending?'sorted-asc':'sorted-desc');
  const rows=Array.from(body.rows);
  const key=row=>{const v=row.cells[index].dataset.value;return v===undefined||v===''?null:(isNaN(v)?v:Number(v));};
  rows.sort((a,b)=>{const x=key(a),y=key(b);if(x===null)return 1;if(y===null)return -1;
    return (x<y?-1:x>y?1:0)*(ascending?1:-1);});
  rows.forEach(row=>body.appendChild(row));
}
function showFace(){
  const name=document.getElementById('face').value;const zoom=document.getElementById('zoom').value;
  for(const img of document.querySelectorAll('.viewer img')){
    img.src=FACES[name][img.dataset.column];img.width=Number(img.dataset.size)*zoom;}
  document.getElementById('zoomvalue').textContent=zoom+'x';
}
"""


def _data_uri(path):
    with open(path, 'rb') as f:
        return 'data:image/png;base64,' + base64.b64encode(f.read()).decode()


def _png_uri(rgb):
    ok, encoded = cv2.imencode('.png', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return 'data:image/png;base64,' + base64.b64encode(encoded.tobytes()).decode()


def _table(records, table_columns, intervals):
    head = ''.join(f'<th onclick="sortTable({i})">{html.escape(title)}</th>'
                   for i, title in enumerate(['Method'] + [title for _, title, _, _ in table_columns]))
    rows = []
    for record in records:
        cells = [f'<td data-value="{html.escape(record["name"])}">{html.escape(record["name"])}</td>']
        for key, _, fmt, _ in table_columns:
            value = record['results'].get(key)
            if value is None:
                cells.append('<td data-value=""></td>')
                continue
            interval = intervals.get(record['name'], {}).get(key)
            shown = fmt.format(value) + ('' if interval is None else
                                         f' <span class="iv">[{fmt.format(interval.low)}, '
                                         f'{fmt.format(interval.high)}]</span>')
            cells.append(f'<td data-value="{value!r}">{shown}</td>')
        rows.append(f'<tr data-method="{html.escape(record["name"])}">' + ''.join(cells) + '</tr>')
    return f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _viewer(records, faces, out_dir):
    """The face picker, zoom slider and one image per column; FACES maps face -> column -> data URI."""
    shown = [face for face in faces
             if all(osp.isfile(osp.join(out_dir, 'sr', r['name'], f'{face[0]}.png')) for r in records)]
    if not shown:
        return '', {}
    with_hr = shown[0][2] is not None
    columns_ = ['LR'] + [r['name'] for r in records] + (['HR'] if with_hr else [])
    data = {}
    for name, lr, hr in shown:
        data[name] = {'LR': _png_uri(lr), **({'HR': _png_uri(hr)} if with_hr else {})}
        data[name].update({r['name']: _data_uri(osp.join(out_dir, 'sr', r['name'], f'{name}.png')) for r in records})
    size = cv2.imread(osp.join(out_dir, 'sr', records[0]['name'], f'{shown[0][0]}.png')).shape[1]  # SR width
    options = ''.join(f'<option value="{html.escape(n)}">{html.escape(n)}</option>' for n, _, _ in shown)
    figures = ''.join(
        f'<figure><img data-column="{html.escape(c)}" data-size="{size}" alt="{html.escape(c)}">'
        f'<figcaption>{html.escape(c)}</figcaption></figure>' for c in columns_)
    controls = (f'<label>Face <select id="face" onchange="showFace()">{options}</select></label> '
                '<label>Zoom <input id="zoom" type="range" min="1" max="6" value="1" oninput="showFace()"></label> '
                '<span id="zoomvalue"></span>')
    return f'{controls}<div class="viewer">{figures}</div>', data


def _psnr_plot(records, key, intervals, width=720, row=34):
    """Inline SVG: every face's value of ``key`` as a dot per method, the mean as a bar and its interval."""
    scored = [r for r in records if key in r.get('per_face', {})]
    if not scored:
        return ''
    values = [v for r in scored for v in r['per_face'][key]]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    left, right = 130, width - 20

    def x(v):
        return left + (v - low) / span * (right - left)

    parts = []
    for i, record in enumerate(scored):
        y = 20 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12">'
                     f'{html.escape(record["name"])}</text>')
        parts += [f'<circle cx="{x(v):.1f}" cy="{y + ((j * 7919) % 13 - 6)}" r="2" fill="#4a7ab5" opacity="0.4"/>'
                  for j, v in enumerate(record['per_face'][key])]
        interval = intervals.get(record['name'], {}).get(key)
        if interval is not None:
            parts.append(f'<line x1="{x(interval.low):.1f}" x2="{x(interval.high):.1f}" y1="{y}" y2="{y}" '
                         'stroke="#c0392b" stroke-width="3"/>')
        mean = record['results'][key]
        parts.append(f'<line x1="{x(mean):.1f}" x2="{x(mean):.1f}" y1="{y - 9}" y2="{y + 9}" stroke="#c0392b" '
                     'stroke-width="2"/>')
    height = 40 + len(scored) * row
    axis = (f'<text x="{left}" y="{height - 5}" font-size="11">{low:.2f}</text>'
            f'<text x="{right}" y="{height - 5}" font-size="11" text-anchor="end">{high:.2f}</text>')
    return (f'<svg id="plot-{key}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            + ''.join(parts) + axis + '</svg>')


def _difference_plot(differences, key, width=720, row=26):
    """Inline SVG forest plot: each pair's mean difference of ``key`` with its interval; zero marked."""
    chosen = [d for d in differences if d.key == key]
    if not chosen:
        return ''
    bound = max(max(abs(d.interval.low), abs(d.interval.high)) for d in chosen) or 1.0
    left, right = 220, width - 20
    middle = (left + right) / 2

    def x(v):
        return middle + v / bound * (right - left) / 2

    parts = [f'<line x1="{middle}" x2="{middle}" y1="5" y2="{15 + len(chosen) * row}" stroke="#999" '
             'stroke-dasharray="4"/>']
    for i, d in enumerate(chosen):
        y = 18 + i * row
        colour = '#2e7d32' if d.distinguishable() else '#999'
        parts += [f'<text x="{left - 8}" y="{y + 4}" text-anchor="end" font-size="12">{html.escape(d.a)} - '
                  f'{html.escape(d.b)}</text>',
                  f'<line x1="{x(d.interval.low):.1f}" x2="{x(d.interval.high):.1f}" y1="{y}" y2="{y}" '
                  f'stroke="{colour}" stroke-width="3"/>',
                  f'<circle cx="{x(d.interval.value):.1f}" cy="{y}" r="4" fill="{colour}"/>']
    height = 30 + len(chosen) * row
    return (f'<svg id="differences-{key}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            + ''.join(parts) + f'<text x="{right}" y="{height - 3}" font-size="11" text-anchor="end">±{bound:.3g}'
            '</text></svg>')


def write_report_page(records, faces, out_dir, context, protocols, comparison=None):
    """Write ``out_dir/index.html`` (atomically) and return its path."""
    table_columns = [c for c in columns(protocols) if any(r['results'].get(c[0]) is not None for r in records)]
    intervals = comparison.intervals if comparison else {}
    differences = comparison.differences if comparison else []
    viewer, face_data = _viewer(records, faces, out_dir)
    main_key = next((key for key, _, _, _ in table_columns if key.startswith('psnr_')), None)
    attention = ''
    for record in records:
        name, path = html.escape(record['name']), osp.join(out_dir, 'attention', f'{record["name"]}.png')
        if osp.isfile(path):
            attention += (f'<figure><img src="{_data_uri(path)}" alt="attention {name}">'
                          f'<figcaption>{name}</figcaption></figure>')
    interval_note = ('' if not comparison else f'<p>[low, high]: {html.escape(comparison.interval_words())} of the '
                     f'mean over the {comparison.bootstrap.n} faces. Click a column to sort.</p>')
    sections = [f'<h1>Face SR benchmark</h1><p>{html.escape(context)}</p>',
                '<section><h2>Results</h2>' + _table(records, table_columns, intervals) + interval_note + '</section>']
    if viewer:
        sections.append(f'<section><h2>Faces</h2>{viewer}</section>')
    if main_key:
        sections.append(f'<section><h2>Per-face {html.escape(main_key)} (dots: faces; red: mean and interval)</h2>'
                        + _psnr_plot(records, main_key, intervals) + '</section>')
        plot = _difference_plot(differences, main_key)
        if plot:
            sections.append(f'<section><h2>Paired differences of {html.escape(main_key)} (green: the interval '
                            'excludes zero)</h2>' + plot + '</section>')
    if attention:
        sections.append(f'<section class="att"><h2>Attention maps</h2>{attention}</section>')
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Face SR benchmark</title>'
            f'<style>{STYLE}</style></head><body>' + ''.join(sections)
            + f'<script>const FACES={json.dumps(face_data)};{SCRIPT}'
            + ('showFace();' if face_data else '') + '</script></body></html>')
    path = osp.join(out_dir, 'index.html')
    with open(path + '.partial', 'w', encoding='utf-8') as f:
        f.write(page)
    os.replace(path + '.partial', path)
    return path
