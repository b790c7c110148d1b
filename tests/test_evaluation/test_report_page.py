"""The benchmark's index.html, opened in headless Chromium: it renders the table, faces, plots and attention maps
from the file alone, and sorting and the face viewer work through the DOM."""
import csv

import pytest
import torch
from basicsr.archs import build_network
from PIL import Image

from mrr_plugin.benchmark import main
from tests.helpers.browser import headless_chromium

pytestmark = pytest.mark.slow
FACES = 10


@pytest.fixture(scope='module')
def benchmark_out(face_pairs, tmp_path_factory):
    folder = tmp_path_factory.mktemp('report_page')
    torch.manual_seed(0)
    network = {'type': 'MRRNet', 'min_ch': 8, 'max_ch': 16, 'res_depth': 1}
    torch.save({'params': build_network(network).state_dict()}, folder / 'mrrnet.pth')
    hr, lr, _ = face_pairs
    out = folder / 'bench'
    code = main(['--hr', hr, '--lr', lr, '--out', str(out), '--limit', str(FACES), '--grid-faces', '3',
                 '--timing-runs', '1', '--timing-batch', '2',
                 '--method', f'TinyMRRNet={folder / "mrrnet.pth"}@MRRNet:min_ch=8,max_ch=16,res_depth=1'])
    assert code == 0
    return out


def test_report_page_renders_sorts_and_shows_faces_in_chromium(benchmark_out, tmp_path):
    page = (benchmark_out / 'index.html').read_text()
    assert 'src="http' not in page and 'href="http' not in page and '<link' not in page  # self-contained
    with open(benchmark_out / 'results.csv') as f:
        rows = {row['method']: row for row in csv.DictReader(f)}
    best = max(rows, key=lambda name: float(rows[name]['psnr_dic']))
    driver = headless_chromium()
    try:
        driver.get((benchmark_out / 'index.html').as_uri())
        driver.save_screenshot(str(tmp_path / 'page.png'))
        width, height = Image.open(tmp_path / 'page.png').size
        assert (width, height) == tuple(driver.execute_script('return [window.innerWidth, window.innerHeight]'))
        assert driver.execute_script(
            "return performance.getEntriesByType('resource').filter(e => !e.name.startsWith('data:')).length") == 0

        def order():
            return [row.get_attribute('data-method')
                    for row in driver.find_elements('css selector', '#results tbody tr')]
        assert order() == ['bicubic', 'TinyMRRNet']
        table = driver.find_element('id', 'results').text
        assert f'{float(rows[best]["psnr_dic"]):.2f} [{float(rows[best]["psnr_dic_low"]):.2f}, ' in table
        headers = driver.find_elements('css selector', '#results thead th')
        psnr = next(h for h in headers if h.text.startswith('PSNR dic'))
        psnr.click()
        ascending = order()
        psnr.click()
        assert order() == ascending[::-1] and order()[0] == best  # descending: the best PSNR first
        assert 'sorted-desc' in psnr.get_attribute('class')
        headers[0].click()  # by name
        assert order() == sorted(rows)

        images = driver.find_elements('css selector', '.viewer img')
        assert [image.get_attribute('data-column') for image in images] == ['LR', 'bicubic', 'TinyMRRNet', 'HR']
        natural = driver.execute_script(
            "return Array.from(document.querySelectorAll('img')).map(i => [i.naturalWidth, i.width, i.complete])")
        assert all(w > 0 and complete for w, _, complete in natural)  # every picture decoded (attention too)
        assert [image.get_attribute('width') for image in images] == ['128'] * 4  # drawn size, border aside
        assert images[0].get_attribute('naturalWidth') == '16'  # the LR face, drawn at 128 pixelated
        first = images[1].get_attribute('src')
        select = driver.find_element('id', 'face')
        choices = [o.get_attribute('value') for o in select.find_elements('tag name', 'option')]
        assert len(choices) == 3
        driver.execute_script("const s = document.getElementById('face'); s.value = arguments[0];"
                              "s.dispatchEvent(new Event('change'));", choices[2])
        assert images[1].get_attribute('src') != first
        driver.execute_script("const z = document.getElementById('zoom'); z.value = 3;"
                              "z.dispatchEvent(new Event('input'));")
        assert [image.get_attribute('width') for image in images] == ['384'] * 4
        assert driver.find_element('css selector', '.att img').size['width'] > 0  # MRRNet's attention maps
        plot = driver.find_element('id', 'plot-psnr_dic')
        assert plot.size['height'] > 40 and len(plot.find_elements('tag name', 'circle')) == 2 * FACES
        assert len(driver.find_element('id', 'differences-psnr_dic').find_elements('tag name', 'circle')) == 1
    finally:
        driver.quit()
