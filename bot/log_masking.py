"""No log line carries a mobile number: a filter on the process's log handlers masks every number in
the message, its arguments and the traceback text.

A traceback can quote user text (an exception raised while reading "我的手机13912345678…" prints its
argument), so masking only the messages our code writes is not enough. Installed by each process's
entry point (gateway, action server) right after logging is configured.
"""
from __future__ import annotations

import logging
from typing import Optional

from bot.services.phone import mask_phones


class PhoneMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # the formatter reuses exc_text when it is set: format it here, masked
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones(record.stack_info)
        return True


def install_phone_masking(logger: Optional[logging.Logger] = None) -> None:
    """Add the filter to every handler of `logger` (the root logger by default), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, PhoneMaskingFilter) for f in handler.filters):
            handler.addFilter(PhoneMaskingFilter())
