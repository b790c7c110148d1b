"""Published x8 face-SR numbers users compare against, as data: quoted, never measured here.

Each row: method, dataset ('CelebA' = DIC's 1,000-face CelebA test split, 'Helen' = DIC's 50-face Helen test
split), the protocol the table was computed with (a key of
:data:`~mrr_plugin.metrics.paper_protocols_metric.PROTOCOLS`, or None when the paper does not say), PSNR, SSIM and
where the numbers are printed. The benchmark prints the rows of a dataset beside its own
(``--published CelebA``), marked as quoted.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedResult:
    method: str
    dataset: str
    protocol: str
    psnr: float
    ssim: float
    source: str
    fid: float = None  # where the source prints it


MRRNET = 'MRRNet paper (ICANN 2022), x8 results'
SPARNET = 'SPARNet paper (TIP 2020), x8 CelebA result'
SFMNET = 'SFMNet paper (CVPR 2023), x8 comparison table (as listed in the RE-SFMNet README)'
RE_SFMNET = 'RE-SFMNet README (x8 CelebA; its released code does not run as published)'
FACE_SPARNET = 'Face-SPARNet README, "Differences with the Paper" (trained on CelebA, tested on DIC\'s Helen set)'
FACE_SPARNET_HD = 'Face-SPARNet README, SPARNetHD table (CelebA-TestN, 1,117 faces; FID only)'

PUBLISHED = [
    PublishedResult('Bicubic', 'CelebA', 'dic', 23.58, 0.6285, SFMNET),
    PublishedResult('Bicubic', 'Helen', 'dic', 23.88, 0.6628, SFMNET),
    PublishedResult('SRCNN', 'CelebA', None, 23.93, 0.6348, SFMNET),
    PublishedResult('SRCNN', 'Helen', None, 24.72, 0.6770, SFMNET),
    PublishedResult('EDSR', 'CelebA', None, 26.84, 0.7787, SFMNET),
    PublishedResult('EDSR', 'Helen', None, 26.60, 0.7851, SFMNET),
    PublishedResult('FSRNet', 'CelebA', None, 26.66, 0.7714, SFMNET),
    PublishedResult('FSRNet', 'Helen', None, 26.43, 0.7799, SFMNET),
    PublishedResult('DIC', 'CelebA', 'dic', 27.37, 0.8022, SFMNET),
    PublishedResult('DIC', 'Helen', 'dic', 26.94, 0.8026, SFMNET),
    PublishedResult('SPARNet', 'CelebA', 'sparnet', 27.42, 0.8036, SPARNET),
    PublishedResult('SPARNet', 'Helen', None, 26.95, 0.8029, SFMNET),
    PublishedResult('SISN', 'CelebA', None, 27.31, 0.7978, SFMNET),
    PublishedResult('SISN', 'Helen', None, 27.08, 0.8083, SFMNET),
    PublishedResult('SFMNet', 'CelebA', 'sfmnet', 27.56, 0.8047, SFMNET),
    PublishedResult('SFMNet', 'Helen', 'sfmnet', 27.22, 0.8141, SFMNET),
    PublishedResult('RE-SFMNet', 'CelebA', 'sfmnet', 27.70, 0.8126, RE_SFMNET),
    PublishedResult('MRRNet', 'CelebA', None, 27.27, 0.7873, MRRNET),
    PublishedResult('MRRNet', 'Helen', None, 26.86, 0.7912, MRRNET),
    PublishedResult('DIC (retested by SPARNet\'s authors)', 'Helen', None, 26.73, 0.7955, FACE_SPARNET),
    PublishedResult('SPARNet (in paper)', 'Helen', None, 26.97, 0.8026, FACE_SPARNET),
    PublishedResult('SPARNet (released)', 'Helen', None, 27.43, 0.8201, FACE_SPARNET),
    PublishedResult('SPARNet-Light-Attn3D (released)', 'Helen', None, 27.39, 0.8189, FACE_SPARNET),
    PublishedResult('SPARNetHD (in paper)', 'CelebA-TestN', None, None, None, FACE_SPARNET_HD, fid=27.16),
    PublishedResult('SPARNetHD-Attn2D (released)', 'CelebA-TestN', None, None, None, FACE_SPARNET_HD, fid=26.72),
    PublishedResult('SPARNetHD-Attn3D (released)', 'CelebA-TestN', None, None, None, FACE_SPARNET_HD, fid=28.42),
]


def published_rows(dataset):
    """The quoted rows of ``dataset`` (case-insensitive), in table order."""
    return [row for row in PUBLISHED if row.dataset.lower() == dataset.lower()]


def published_table(dataset):
    """Markdown lines of the quoted rows of ``dataset`` (empty when none)."""
    rows = published_rows(dataset)
    if not rows:
        return []
    lines = [f'Published {rows[0].dataset} numbers (quoted, not measured here; x8 unless the source says '
             'otherwise):', '',
             '| Method | PSNR (dB) | SSIM | FID | protocol | source |', '|---|---|---|---|---|---|']
    lines += [f'| {r.method} | {_number(r.psnr, 2)} | {_number(r.ssim, 4)} | {_number(r.fid, 2)} | '
              f'{r.protocol or "not stated"} | {r.source} |' for r in rows]
    return lines


def _number(value, digits):
    return '' if value is None else f'{value:.{digits}f}'
