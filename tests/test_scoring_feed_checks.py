"""The nightly job's feed checks that need no model: a channel the model never saw."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyalty_ml.exceptions import DataQualityWarning
from loyalty_ml.schema import columns as C

AS_OF = pd.Timestamp("2024-03-30")


def _shop(buyers_per_day: int, days: int = 60) -> pd.DataFrame:
    """``buyers_per_day`` customers buying at noon each day up to the day before ``AS_OF``."""
    rng = np.random.default_rng(0)
    rows = []
    for d in pd.date_range(end=AS_OF - pd.Timedelta(days=1), periods=days, freq="D"):
        ids = rng.choice(10_000, size=buyers_per_day, replace=False)
        rows.append(pd.DataFrame({C.CUSTOMER_ID: ids, C.TIMESTAMP: d + pd.Timedelta(hours=12)}))
    out = pd.concat(rows, ignore_index=True)
    return out.assign(**{C.AMOUNT: 4.5})


def test_a_channel_the_model_never_saw_is_warned_about_with_its_share_and_a_fix() -> None:
    """Orders in a new channel count in a customer's orders but in no share: the 35-night probe's
    new channel lowered every known share of its customers without a word (session 55)."""
    from loyalty_ml.tracking._inputs import warn_of_new_channels

    shop = _shop(40).assign(**{C.CHANNEL: "store"})
    recent = shop[C.TIMESTAMP] >= AS_OF - pd.Timedelta(days=7)
    shop.loc[recent & (shop.index % 4 == 0), C.CHANNEL] = "Kiosk"
    shop.loc[shop.index % 5 == 0, C.CHANNEL] = "App"  # known, spelt otherwise

    def warns(history: pd.DataFrame) -> bool:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            said = warn_of_new_channels(history, AS_OF, ("app", "store"), caller="score_customers")
        assert said == any(issubclass(w.category, DataQualityWarning) for w in caught)
        return said

    with pytest.warns(
        DataQualityWarning,
        match=r"channels the model was not trained with: 'Kiosk' \(56\); it knows 'app', 'store'.*replace\(\{'Kiosk': 'app'\}\)",
    ):
        warn_of_new_channels(shop, AS_OF, ("app", "store"), caller="score_customers")
    # known channels in any spelling, missing channels, and a model without channels: quiet
    assert not warns(shop.assign(**{C.CHANNEL: shop[C.CHANNEL].replace({"Kiosk": "STORE"})}))
    assert not warns(shop.assign(**{C.CHANNEL: shop[C.CHANNEL].replace({"Kiosk": None})}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_of_new_channels(shop, AS_OF, None, caller="score_customers")
    # a trickle under 1% of the recent lines, or only long ago, is not warned about
    trickle = shop.assign(**{C.CHANNEL: "store"})
    trickle.loc[trickle.index[-5:], C.CHANNEL] = "Kiosk"
    assert not warns(trickle)
    old = shop.assign(**{C.CHANNEL: "store"})
    old.loc[old.index[:400], C.CHANNEL] = "Kiosk"  # the first ten days of sixty
    assert not warns(old)


def test_the_previous_night_is_found_among_other_models_runs_and_an_earlier_end_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous night's run was looked for among the experiment's latest runs of any model:
    other models scored since (a store's each, a shadow challenger) crowded it out, and the
    check passed in silence. Purchases ending before the previous night's end were said to end
    where they ended."""
    import mlflow

    from loyalty_ml.tracking import scoring
    from loyalty_ml.tracking._mlflow import use_tracking_uri

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(scoring, "_RECENT_RUNS", 3)
    ended = AS_OF - pd.Timedelta(days=2, hours=12)
    with use_tracking_uri(f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"):
        # through a client: mlflow.set_experiment would leave this store's experiment active for
        # the worker's later tests (their start_run() then asked another store for it)
        client = mlflow.MlflowClient()
        nights = client.create_experiment("nights")
        for model, as_of in [("loyalty_ml", "2024-03-29")] + [("store_7", "2024-03-29")] * 4:
            run = client.create_run(nights).info.run_id
            client.log_param(run, "model_uri", f"models:/{model}@champion")
            client.log_param(run, "as_of", as_of)
            client.set_tag(run, scoring.LAST_PURCHASE_TAG, str(ended))
            client.set_terminated(run)
        history = _shop(40)
        history = history.loc[history[C.TIMESTAMP] <= ended]

        def check(frame: pd.DataFrame) -> None:
            scoring._warn_if_no_new_purchases(
                mlflow,
                "nights",
                scoring.last_purchase(frame),
                AS_OF,
                model_uri="models:/loyalty_ml@champion",
            )

        with pytest.warns(DataQualityWarning, match=r"end on 2024-03-27 12:00:00, where they"):
            check(history)
        earlier = history.loc[history[C.TIMESTAMP] < ended]
        with pytest.warns(DataQualityWarning, match=r"before where they ended \(2024-03-27 12"):
            check(earlier)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check(_shop(40))  # the night's purchases arrived
