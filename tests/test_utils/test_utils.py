import numpy as np
import pytest

from mrr_plugin.utils import project_root
from mrr_plugin.utils.visual import labelled_grid, write_png


def test_labelled_grid_places_each_image_in_its_cell(tmp_path):
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((128, 128, 3), np.uint8)
    blue[..., 2] = 255
    grid = labelled_grid([[red, blue], [blue, red]], ['LR', 'HR'], cell=128, header=18, gap=2)
    assert grid.shape == (18 + 2 * 130 + 2, 2 * 130 + 2, 3)
    assert (grid[20:148, 2:130] == [255, 0, 0]).all()  # row 0, LR column: nearest-upsampled red
    assert (grid[20:148, 132:260] == [0, 0, 255]).all()
    assert grid[:18].min() < 255  # the header has text
    write_png(str(tmp_path / 'g.png'), grid)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['g.png']
    with pytest.raises(ValueError):
        labelled_grid([[red]], ['LR', 'HR'])


def test_project_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv('MRR_PLUGIN_ROOT', str(tmp_path))
    assert project_root() == str(tmp_path)
    monkeypatch.delenv('MRR_PLUGIN_ROOT')
    import os
    assert os.path.isdir(os.path.join(project_root(), 'options'))
