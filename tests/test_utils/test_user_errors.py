"""run_tool: a user error is one line on stderr and exit status 1."""
import pytest

from tdfusion_mm.utils.checkpoint import CheckpointError
from tdfusion_mm.utils.user_errors import (DEBUG_ENV, InvalidInputFileError,
                                           UserError, run_tool, user_message)


def fail(error):

    def main():
        raise error

    return main


@pytest.mark.parametrize('error', [
    UserError('x.png: not an image'),
    FileNotFoundError('no such file: x.png'),
    CheckpointError('x.pth: truncated')
])
def test_user_error_is_one_line_and_status_1(error, capsys, monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    monkeypatch.setattr('sys.argv', ['tool.py'])
    assert run_tool(fail(error)) == 1
    err = capsys.readouterr().err
    assert err == f'error: {error}\n'


def test_debug_adds_the_traceback(capsys, monkeypatch):
    monkeypatch.setattr('sys.argv', ['tool.py', '--debug'])
    assert run_tool(fail(UserError('bad input'))) == 1
    err = capsys.readouterr().err
    assert 'Traceback' in err and err.endswith('error: bad input\n')
    monkeypatch.setattr('sys.argv', ['tool.py'])
    monkeypatch.setenv(DEBUG_ENV, '1')
    run_tool(fail(UserError('bad input')))
    assert 'Traceback' in capsys.readouterr().err


def test_code_errors_propagate_and_main_sets_the_status():
    with pytest.raises(ZeroDivisionError):
        run_tool(lambda: 1 / 0)
    assert run_tool(lambda: None) == 0
    assert run_tool(lambda: 3) == 3


def test_user_message_of_worker_and_key_errors():
    worker = RuntimeError('Caught OSError in DataLoader worker process 0.\n'
                          'Original Traceback (most recent call last):\n'
                          '  File "x.py", line 1\n'
                          'OSError: cannot read a.png\n')
    assert user_message(worker) == 'OSError: cannot read a.png'
    # Re-raised as its own type: the line without the type's name.
    worker = InvalidInputFileError(
        'Caught InvalidInputFileError in DataLoader worker process 1.\n'
        'Original Traceback (most recent call last):\n'
        '  File "x.py", line 1\n'
        'tdfusion_mm.utils.user_errors.InvalidInputFileError: a.xml: box 0 '
        '[1, 2, 0, 4] is empty or inverted\n')
    assert user_message(worker) == \
        'a.xml: box 0 [1, 2, 0, 4] is empty or inverted'
    assert user_message(KeyError('model.x: unknown')) == 'model.x: unknown'
