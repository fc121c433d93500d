from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_ml.exceptions import ConfigError, DataError, SchemaError
from loyalty_ml.privacy import SALT_ENV_VAR, pseudonymise_frame, pseudonymise_ids, resolve_salt
from loyalty_ml.schema import columns as C

SALT = "test-salt-0f1e2d3c"


def test_salt_comes_from_argument_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SALT_ENV_VAR, raising=False)
    with pytest.raises(ConfigError, match=r"No salt for pseudonymisation.*LOYALTY_ML_SALT"):
        resolve_salt()
    monkeypatch.setenv(SALT_ENV_VAR, "from-env")
    assert resolve_salt() == "from-env"
    assert resolve_salt("explicit") == "explicit"
    assert pseudonymise_ids([1]) == pseudonymise_ids([1], salt="from-env")


@pytest.mark.parametrize("salt", ["", "   "])
def test_empty_salt_is_refused(salt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="'salt' parameter is empty"):
        pseudonymise_ids([1], salt=salt)
    monkeypatch.setenv(SALT_ENV_VAR, salt)
    with pytest.raises(ConfigError, match="LOYALTY_ML_SALT environment variable is empty"):
        pseudonymise_ids([1])


def test_a_salt_short_enough_to_guess_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"'salt' parameter has 1 character.*at least 8"):
        pseudonymise_ids([1], salt="a")
    monkeypatch.setenv(SALT_ENV_VAR, "1234567")
    with pytest.raises(ConfigError, match="environment variable has 7 character"):
        pseudonymise_ids([1])
    assert len(pseudonymise_ids([1], salt="12345678")[0]) > 0


def test_non_text_salt_and_bad_length_are_refused() -> None:
    with pytest.raises(ConfigError, match="salt must be a str"):
        pseudonymise_ids([1], salt=b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"'length' parameter .* \[8, 64\]"):
        pseudonymise_ids([1], salt=SALT, length=4)


def test_pseudonym_is_the_salted_hmac() -> None:
    expected = hmac.new(SALT.encode(), b"17", hashlib.sha256).hexdigest()[:16]
    assert pseudonymise_ids([17], salt=SALT) == [expected]
    assert pseudonymise_ids(["17"], salt=SALT) == [expected]  # same customer, either type
    assert (
        pseudonymise_ids([17], salt=SALT, length=64)[0]
        == expected + hmac.new(SALT.encode(), b"17", hashlib.sha256).hexdigest()[16:]
    )


def test_stable_and_salted() -> None:
    ids = list(range(100))
    first = pseudonymise_ids(ids, salt=SALT)
    assert pseudonymise_ids(ids, salt=SALT) == first
    other = pseudonymise_ids(ids, salt="another-salt")
    assert not set(first) & set(other)
    assert not set(first) & {str(i) for i in ids}
    # an unsalted hash of the id is not what is produced (no dictionary attack without the salt)
    assert hashlib.sha256(b"1").hexdigest()[:16] != first[1]


def test_types_are_kept() -> None:
    series = pd.Series([3, 4], index=["a", "b"], name=C.CUSTOMER_ID)
    out = pseudonymise_ids(series, salt=SALT)
    assert isinstance(out, pd.Series) and out.index.tolist() == ["a", "b"]
    assert out.name == C.CUSTOMER_ID
    index = pseudonymise_ids(pd.Index([3, 4], name=C.CUSTOMER_ID), salt=SALT)
    assert isinstance(index, pd.Index) and index.name == C.CUSTOMER_ID
    assert index.tolist() == out.tolist()


def test_collision_free_on_many_ids() -> None:
    ids = np.arange(200_000)
    out = pseudonymise_ids(ids, salt=SALT)
    assert len(set(out)) == len(ids)


def test_missing_ids_and_collisions_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match=r"missing ids: 2 missing at positions \[1, 3\]"):
        pseudonymise_ids([1, None, 2, np.nan], salt=SALT)
    import loyalty_ml.privacy.pseudonymise as module

    monkeypatch.setattr(module, "_digest", lambda key, value, length: "0" * length)
    with pytest.raises(DataError, match=r"same 16-character pseudonym.*length=32"):
        pseudonymise_ids([1, 2], salt=SALT)


@settings(max_examples=50, deadline=None)
# ids as validation leaves them: text without surrounding blanks, never blank (a missing id)
@given(
    ids=st.lists(
        st.one_of(st.integers(), st.text(max_size=12).map(str.strip).filter(bool)), max_size=30
    )
)
def test_injective_and_deterministic(ids: list[object]) -> None:
    out = pseudonymise_ids(ids, salt=SALT)
    assert len(out) == len(ids)
    by_text: dict[str, str] = {}
    for i, p in zip(ids, out, strict=True):
        assert by_text.setdefault(str(i), p) == p  # same id -> same pseudonym
    assert len(set(by_text.values())) == len(by_text)  # different ids -> different pseudonyms


def test_frame_for_logging() -> None:
    index = pd.MultiIndex.from_tuples(
        [
            (pd.Timestamp("2024-01-01"), 1),
            (pd.Timestamp("2024-01-01"), 2),
            (pd.Timestamp("2024-04-01"), 1),
        ],
        names=[C.AS_OF, C.CUSTOMER_ID],
    )
    frame = pd.DataFrame(
        {
            "score": [0.1, 0.2, 0.3],
            C.GENDER: ["F", "M", "F"],
            "email": ["a", "b", "a"],
            "region": ["N"] * 3,
        },
        index=index,
    )
    out = pseudonymise_frame(frame, salt=SALT)
    assert out.columns.tolist() == ["score", "region"]
    hashed = out.index.get_level_values(C.CUSTOMER_ID).tolist()
    assert hashed == pseudonymise_ids([1, 2, 1], salt=SALT)
    assert out.index.get_level_values(C.AS_OF).equals(frame.index.get_level_values(C.AS_OF))
    assert frame.index.get_level_values(C.CUSTOMER_ID).tolist() == [1, 2, 1]  # input untouched
    kept = pseudonymise_frame(frame, salt=SALT, keep=[C.GENDER])
    assert kept.columns.tolist() == ["score", C.GENDER, "region"]
    assert pseudonymise_frame(frame, salt=SALT, drop_personal=False).shape == frame.shape


def test_frame_with_id_column_and_plain_index() -> None:
    frame = pd.DataFrame({C.CUSTOMER_ID: [5, 6], "amount": [1.0, 2.0]})
    out = pseudonymise_frame(frame, salt=SALT)
    assert out[C.CUSTOMER_ID].tolist() == pseudonymise_ids([5, 6], salt=SALT)
    indexed = pseudonymise_frame(frame.set_index(C.CUSTOMER_ID), salt=SALT)
    assert indexed.index.tolist() == out[C.CUSTOMER_ID].tolist()
    with pytest.raises(SchemaError, match="no 'member' column or index level"):
        pseudonymise_frame(frame, salt=SALT, id_column="member")


def test_length_accepts_numpy_integers() -> None:
    (one,) = pseudonymise_ids([17], salt=SALT, length=np.int64(20))
    assert one == pseudonymise_ids([17], salt=SALT, length=20)[0] and len(one) == 20


def test_protected_columns_under_a_column_multiindex_are_dropped() -> None:
    """("gender", "") from groupby().agg was kept in the clear; ("email", "") was dropped."""
    flat = pd.DataFrame(
        {"customer_id": [1, 2], "email": ["a@x", "b@x"], "gender": ["F", "M"], "score": [0.1, 0.2]}
    )
    wide = flat.set_axis(pd.MultiIndex.from_arrays([flat.columns, [""] * 4]), axis=1)
    out = pseudonymise_frame(wide, salt="s3cret-salt-123")
    assert out.columns.get_level_values(0).tolist() == ["customer_id", "score"]
    assert out[("customer_id", "")].tolist() != [1, 2]


@pytest.mark.parametrize("id_column", [None, "", 0])
def test_id_column_must_name_a_column(id_column: object) -> None:
    """id_column=None matched the unnamed index and left the customer_id column in the clear."""
    frame = pd.DataFrame({"customer_id": [1, 2], "score": [0.1, 0.2]})
    with pytest.raises(ConfigError, match="id_column must name the id column"):
        pseudonymise_frame(frame, salt="s3cret-salt-123", id_column=id_column)  # type: ignore[arg-type]
