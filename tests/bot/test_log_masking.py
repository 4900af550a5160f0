"""Mobile numbers never reach a log line: messages, arguments and tracebacks are masked."""
from __future__ import annotations

import io
import logging

from bot.log_masking import PhoneMaskingFilter, install_phone_masking

PHONE = "13912345678"


def logger_writing_to(stream: io.StringIO, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers = [logging.StreamHandler(stream)]
    logger.propagate = False
    install_phone_masking(logger)
    install_phone_masking(logger)  # twice: still one filter
    assert sum(isinstance(f, PhoneMaskingFilter) for f in logger.handlers[0].filters) == 1
    return logger


def test_messages_and_their_arguments_are_masked():
    stream = io.StringIO()
    log = logger_writing_to(stream, "zt.mask.args")
    log.warning("user wrote %s", f"我的手机{PHONE}，请回电")
    log.warning(f"direct {PHONE}")
    text = stream.getvalue()
    assert PHONE not in text and "139****5678" in text


def test_a_traceback_quoting_user_text_is_masked():
    stream = io.StringIO()
    log = logger_writing_to(stream, "zt.mask.trace")
    try:
        raise ValueError(f"cannot parse {PHONE}")
    except ValueError:
        log.exception("handling a message failed")
    text = stream.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert PHONE not in text and "139****5678" in text


def test_other_lines_are_unchanged():
    stream = io.StringIO()
    log = logger_writing_to(stream, "zt.mask.plain")
    log.warning("booking %s at %d", "ZN-7K2Q", 1500)
    assert stream.getvalue().strip() == "booking ZN-7K2Q at 1500"
