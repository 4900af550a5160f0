"""What the staff spreadsheet imports print alike (`points`, `job_fairs`): the missing-file and
validation-failure messages, with the same exit codes (2: no file, 1: nothing imported)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from bot.services.staff_files import RowError

MAX_ERRORS_SHOWN = 50


def missing_file(path: Path) -> int:
    print(f"找不到文件：{path}", file=sys.stderr)
    return 2


def refused(errors: Sequence[RowError]) -> int:
    """List the first errors of a file that was not imported at all."""
    print(f"校验未通过，共 {len(errors)} 处错误，未导入任何数据：", file=sys.stderr)
    for error in errors[:MAX_ERRORS_SHOWN]:
        print(f"  {error}", file=sys.stderr)
    if len(errors) > MAX_ERRORS_SHOWN:
        print(f"  …另有 {len(errors) - MAX_ERRORS_SHOWN} 处", file=sys.stderr)
    return 1
