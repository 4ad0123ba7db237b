"""Expected user errors and how the tools report them."""
import os
import sys
import traceback
from typing import Callable

DEBUG_ENV = 'TDFUSION_DEBUG'


class UserError(Exception):
    """An error of the user's input, not of the code: a missing or broken
    file, an unsupported image, inputs that do not match.

    Its message names the file (or the option) and the cause. The tools
    print it as one line, without a traceback (``--debug`` or
    ``TDFUSION_DEBUG=1`` shows the traceback too).
    """


def run_main(main: Callable[[], None], debug: bool = False) -> None:
    """Run a tool's ``main``; on a :class:`UserError` print its message to
    stderr and exit with status 1 (with the traceback if ``debug`` or the
    environment variable ``TDFUSION_DEBUG`` is set).

    Args:
        main (Callable): The tool's main function, without arguments.
        debug (bool): Print the traceback of user errors. Defaults to False.
    """
    try:
        main()
    except UserError as err:
        if debug or os.environ.get(DEBUG_ENV, '0') not in ('', '0'):
            traceback.print_exc()
        print(f'error: {err}', file=sys.stderr)
        sys.exit(1)
