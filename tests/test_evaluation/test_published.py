from mrr_plugin.evaluation.published import PUBLISHED, published_table
from mrr_plugin.metrics.paper_protocols_metric import PROTOCOLS


def test_every_quoted_row_names_its_source_and_a_known_protocol():
    for row in PUBLISHED:
        assert row.source and (row.protocol is None or row.protocol in PROTOCOLS)
        assert row.psnr is not None or row.fid is not None


def test_tables_print_fid_where_the_source_does():
    helen = '\n'.join(published_table('Helen'))
    assert '| SPARNet-Light-Attn3D (released) | 27.39 | 0.8189 |  | not stated |' in helen
    test_n = '\n'.join(published_table('celeba-testn'))
    assert '| SPARNetHD (in paper) |  |  | 27.16 |' in test_n
    assert published_table('FFHQ') == []
