from __future__ import annotations

import pytest

from sync.enrollment import EnrollmentCode, EnrollmentCodeError


def test_round_trip() -> None:
    code = EnrollmentCode("http://127.0.0.1:8000", EnrollmentCode.new_code())
    assert EnrollmentCode.parse(code.text()) == code
    assert EnrollmentCode.parse("  " + code.text().lower().replace("http", "http") + "\n").code == code.code


@pytest.mark.parametrize(
    "text",
    ["", "EW1:ABC", "EE1:SHORT@http://x", "EE1:0123456789ABCDEF", "EE1:0123456789ABCDEF@ftp://x",
     "EE1:0123456789ABCDE!@http://x"],
)
def test_bad_codes(text: str) -> None:
    with pytest.raises(EnrollmentCodeError):
        EnrollmentCode.parse(text)
