"""Same as ``python -m mrr_plugin.benchmark`` (see its --help)."""
import sys

from mrr_plugin.benchmark import main

if __name__ == '__main__':
    sys.exit(main())
