"""Every tool reports a user error in one line with exit status 1 (and
raises with ``--debug``). The tools run in this process through runpy, as
``python tools/<tool>.py`` would run them, to avoid one import per tool."""
import contextlib
import io
import os.path as osp
import runpy
import sys

import pytest
from utils import REPO_ROOT

MISSING = '/nonexistent/spn_mm_missing'
CFG = osp.join(REPO_ROOT, 'tests', 'configs', 'spn_tiny_det.py')
CASES = {  # tool -> arguments naming a missing file or folder
    'visualize_priors.py': [CFG, MISSING + '.pth', '--image', 'x.png'],
    'deployment/export_onnx.py': [MISSING + '.py'],
    'analysis/model_complexity.py': [MISSING + '.py'],
    'model_converters/spn_official_to_mmagic.py': [MISSING + '.pth',
                                                   'out.pth'],
    'dataset_converters/make_eval_manifest.py': [
        '--img-root', MISSING, '--mask-root', MISSING, '--out', 'm.jsonl'],
    'dataset_converters/build_file_lists.py': ['places2', '--root', MISSING],
    'dataset_converters/split_celebahq.py': ['--root', MISSING],
    'analysis/demo_report.py': [CFG, MISSING + '.pth', '--out', 'r'],
    'web_demo.py': [CFG, MISSING + '.pth'],
}


def run_tool(tool: str, args: list) -> tuple:
    """(exit status, stderr) of ``python tools/<tool> <args>``."""
    err = io.StringIO()
    argv = sys.argv
    sys.argv = [osp.join(REPO_ROOT, 'tools', tool)] + list(args)
    try:
        with contextlib.redirect_stderr(err), \
                contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(sys.argv[0], run_name='__main__')
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = argv
    return code, err.getvalue()


@pytest.mark.parametrize('tool', sorted(CASES))
def test_user_error_is_one_line_and_exit_1(tool, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run_tool(tool, CASES[tool])
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith('error: ')]
    assert code == 1, err
    assert len(errors) == 1 and 'Traceback' not in err, err
    assert 'spn_mm_missing' in errors[0], err


@pytest.mark.parametrize('tool', sorted(CASES))
def test_debug_shows_the_traceback(tool, tmp_path, monkeypatch):
    """``--debug`` re-raises the user error itself (no tool swallows it)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises((FileNotFoundError, NotADirectoryError)) as info:
        run_tool(tool, CASES[tool] + ['--debug'])
    assert 'spn_mm_missing' in str(info.value)
