"""GB 11643 helpers: the test vectors of shared/standards/codes.md and the vectorised path."""

import datetime as dt

import numpy as np
import pytest

from edulake import idcard


def test_check_digit_vectors():
    assert idcard.check_digit("11010519491231002") == "X"
    assert idcard.check_digit("44052418800101001") == "4"
    assert idcard.check_digit("11010820150901001") == "0"


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_valid_numbers(number):
    assert idcard.is_valid(number)


@pytest.mark.parametrize("number", [
    "110105194912310021",  # wrong check digit
    "11010519491331002X",  # month 13 (check digit recomputed below would not help)
    "11010519491231002",  # 17 characters
    "11010519491231002x",  # lower-case x
    "",
    None,
])
def test_invalid_numbers(number):
    assert not idcard.is_valid(number)


def test_bad_date_with_right_check_digit_is_invalid():
    first17 = "11010820150230001"  # 30 February
    assert not idcard.is_valid(first17 + idcard.check_digit(first17))


def test_build_round_trip():
    number = idcard.build("110103", dt.date(2009, 3, 4), 37)
    assert number.startswith("11010320090304037") and idcard.is_valid(number)
    assert idcard.birth_date(number) == dt.date(2009, 3, 4)
    assert idcard.sex(number) == "1"
    assert idcard.sex(idcard.build("110101", dt.date(2012, 1, 1), 2)) == "2"


def test_vectorised_check_digits_agree():
    rng = np.random.default_rng(0)
    first17 = np.array(["".join(map(str, rng.integers(0, 10, 17))) for _ in range(500)])
    assert idcard.check_digits(first17).tolist() == [idcard.check_digit(s) for s in first17]
