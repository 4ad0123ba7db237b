"""Errors in what a user gives the tools, and how the tools report them:
one line, ``error: ...``, naming the file (or the key) and the cause."""
import os
import re
import sys
import traceback
from typing import Callable

from .checkpoint import CheckpointError

DEBUG_ENV = 'TDFUSION_DEBUG'


class UserError(Exception):
    """An error of the user's input, not of the code: a missing or broken
    file, an unsupported image, inputs that do not match.

    Its message names the file (or the option) and the cause.
    """


class ConfigKeyError(UserError, KeyError):
    """A config key that is missing or no longer valid; the message names
    the key and what to write instead."""


class InvalidInputFileError(ValueError):
    """A data file (image, label map, annotation) with invalid content; the
    message names it."""


# Errors of the input: ours, bad paths and unreadable images (OSError),
# broken checkpoints, invalid data files.
USER_ERRORS = (UserError, OSError, CheckpointError, InvalidInputFileError)


def user_message(error: BaseException) -> str:
    """The message of ``error`` without a traceback.

    An error raised in a DataLoader worker comes back (as the same type)
    with the worker's traceback in its message; its last line is the
    original error, after the name of its type.
    """
    message = str(error)
    if 'Original Traceback' in message:
        lines = [line for line in message.splitlines() if line.strip()]
        message = re.sub(rf'^([\w.]*\.)?{type(error).__name__}: ', '',
                         lines[-1])
    elif isinstance(error, KeyError) and error.args:
        message = str(error.args[0])
    return message


def run_tool(main: Callable[[], object]) -> int:
    """Run a tool's ``main``; an expected user error prints one line.

    The line, ``error: ...``, is the last of the output; the traceback is
    printed before it with ``--debug`` on the command line or
    ``TDFUSION_DEBUG=1``.

    Returns:
        int: The exit code: 1 after a user error, else what ``main``
        returns (0 for None).
    """
    try:
        code = main()
    except USER_ERRORS as error:
        if '--debug' in sys.argv[1:] or os.environ.get(
                DEBUG_ENV, '') not in ('', '0'):
            traceback.print_exc()
        print(f'error: {user_message(error)}', file=sys.stderr)
        return 1
    return code or 0
