"""Errors in what a user gives the tools, reported in one line."""
import os
import sys
from typing import Callable

from .checkpoint import CheckpointError

DEBUG_ENV = 'TDFUSION_DEBUG'


class InvalidInputFileError(ValueError):
    """A data file (image, label map, annotation) with invalid content; the
    message names it."""


# Bad paths and unreadable images (OSError), broken checkpoints, invalid
# data files.
USER_ERRORS = (OSError, CheckpointError, InvalidInputFileError)


def user_message(error: BaseException) -> str:
    """The message of ``error`` without a traceback.

    An error raised in a DataLoader worker comes back with the worker's
    traceback in its message; its last line is the original error.
    """
    message = str(error)
    if 'Original Traceback' in message:
        lines = [line for line in message.splitlines() if line.strip()]
        message = lines[-1]
    elif isinstance(error, KeyError) and error.args:
        message = str(error.args[0])
    return message


def run_tool(main: Callable[[], object]) -> int:
    """Run a tool's ``main``; an expected user error prints one line.

    The error's message names the file and the cause; the traceback is
    shown with ``--debug`` on the command line or ``TDFUSION_DEBUG=1``.

    Returns:
        int: The exit code: 1 after a user error, else what ``main``
        returns (0 for None).
    """
    debug = '--debug' in sys.argv[1:] or os.environ.get(DEBUG_ENV, '') not in (
        '', '0')
    try:
        code = main()
    except USER_ERRORS as error:
        if debug:
            raise
        print(f'error: {user_message(error)}\n(for the traceback: --debug '
              f'or {DEBUG_ENV}=1)', file=sys.stderr)
        return 1
    return code or 0
