"""What ``python -m mrr_plugin.train`` and ``mrr_plugin.test`` share: check the options before anything is created
or archived, run the pipeline, and end a run that cannot go on with one line and a documented exit status
(2 options, 3 a non-finite value, 4 an unreadable face, 5 the run's folder is held by another live run)."""
import sys

from mrr_plugin.data.checked_samples import DATA_ERROR_EXIT, SampleReadError, first_line
from mrr_plugin.models.nonfinite_guard import NONFINITE_EXIT, NonFiniteOutput, NonFiniteTraining
from mrr_plugin.pipelines.option_check import exit_on_option_problems
from mrr_plugin.utils import project_root
from mrr_plugin.utils.run_lock import FolderInUse

FOLDER_IN_USE_EXIT = 5


def run_pipeline(pipeline, for_training, argv=None):
    argv = sys.argv[1:] if argv is None else argv
    exit_on_option_problems(argv, for_training)
    try:
        pipeline(project_root(), argv)
    except (NonFiniteTraining, NonFiniteOutput) as error:
        print(f'error: {error}', file=sys.stderr, flush=True)
        sys.exit(NONFINITE_EXIT)
    except FolderInUse as error:
        print(f'error: {error}', file=sys.stderr, flush=True)
        sys.exit(FOLDER_IN_USE_EXIT)
    except SampleReadError as error:
        print(f'error: {first_line(error)}', file=sys.stderr, flush=True)
        sys.exit(DATA_ERROR_EXIT)
