"""A close reason fits a close frame in bytes, whatever the client's characters were."""

from __future__ import annotations

import pytest

from assist.web.connection import MAX_CLOSE_REASON_BYTES, close_reason


@pytest.mark.parametrize("reason", ["unknown field '𐀀𐀀𐀀𐀀'" * 20, "é" * 200, "中文" * 100, "\udcff" * 50, "ok"])
def test_close_reasons_fit_in_a_control_frame(reason: str) -> None:
    cut = close_reason(reason)
    assert len(cut.encode("utf-8")) <= MAX_CLOSE_REASON_BYTES
    assert reason.startswith(cut) or "\udcff" in reason
