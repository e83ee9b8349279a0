"""Schemathesis against the live API: no 5xx, and no answer that contradicts /openapi.json."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from tests.harness import VENV_BIN

pytestmark = pytest.mark.integration


async def test_schemathesis_finds_no_server_error_or_schema_violation(
    stack_factory, tmp_path: Path
) -> None:
    # Waits are short so that nothing legitimately exceeds the call timeout (a 504 would count
    # as a server error): quick transitions, and delays of at most a second.
    stack = stack_factory(work_seconds=0.01, max_delay_seconds=1, call_timeout_seconds=20).start()
    process = await asyncio.create_subprocess_exec(
        str(VENV_BIN / "schemathesis"),
        "run",
        f"{stack.url}/openapi.json",
        "--checks",
        "all",
        # Handlers validate their own input (order/place needs {"amount": n}); the document
        # cannot say so, and this check would call every such 400 a failure.
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-examples",
        "40",
        "--workers",
        "1",  # schemathesis' coverage phase is not thread-safe on Python 3.11
        "--request-timeout",
        "30",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode(errors="replace")
    if process.returncode != 0:
        sys.stderr.write(output)
    assert process.returncode == 0, output[-3000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated and int(generated[1]) > 500 and generated[1] == generated[2], output[-500:]
