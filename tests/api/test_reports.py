"""The reports, each computed twice: through the API, and by a plain Python fold over the raw entries."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from gateway.core.db import create_engine, create_session_factory
from gateway.core.enums import SyncState
from tests.api.conftest import AppClientFactory
from tests.api.report_data import (
    DIMENSIONS,
    FIRST_DAY,
    LAST_DAY,
    Dataset,
    api_row_key,
    build_dataset,
    fold_time_report,
    fold_timesheet,
    matching,
)

SEED = 20261127
VIEWERS = ["boss", "lead_red", "lead_blue", "ann", "dee", "eve"]


@pytest.fixture
def api_database_url(database_url: str) -> str:
    return database_url


@pytest.fixture
async def data(api_database_url: str) -> Dataset:
    engine = create_engine(api_database_url)
    async with create_session_factory(engine)() as session:
        built = await build_dataset(session, SEED)
    await engine.dispose()
    return built


@pytest.fixture
async def client(
    make_client: AppClientFactory, api_database_url: str, data: Dataset
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    # Started on the finished data set: the app's startup sweep does not race the build for SQLite's one writer.
    async with make_client(api_database_url) as client:
        yield client


def random_query(data: Dataset, rng: random.Random) -> tuple[list[str], dict[str, Any]]:
    group_by = rng.sample(DIMENSIONS, rng.randint(0, 3))
    first = FIRST_DAY + timedelta(days=rng.randint(0, 100))
    filters: dict[str, Any] = {
        "first_day": first.isoformat(),
        "last_day": min(LAST_DAY, first + timedelta(days=rng.randint(0, 120))).isoformat(),
    }
    choices: dict[str, list[Any]] = {
        "user_id": list(data.users),
        "team_id": list(data.teams),
        "customer_id": list(data.customers),
        "project_id": list(data.projects),
        "activity_id": list(data.activities),
        "account_id": list(data.accounts),
        "ticket": ["ACM-1", "#17"],
    }
    for name in rng.sample(list(choices), rng.choice([0, 0, 1, 2])):
        filters[name] = rng.choice(choices[name])
    return group_by, filters


def hundredths(value: float) -> int:
    return int(Decimal(str(value)) * 100)


async def test_time_report_agrees_with_the_fold_for_every_role(
    client: AsyncTestClient[Litestar], data: Dataset
) -> None:
    rng = random.Random(SEED)
    queries = [(["team", "week"], {"first_day": "2026-12-20", "last_day": "2027-01-10"})]
    queries += [random_query(data, rng) for _ in range(30)]
    nonempty = 0
    for index, (group_by, filters) in enumerate(queries):
        viewer = VIEWERS[index % len(VIEWERS)]
        response = await client.get(
            "/api/reports/time", params={**filters, "group_by": ",".join(group_by)}, headers=data.headers(viewer)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        expected_rows, expected_totals = fold_time_report(data, viewer, group_by, filters)
        got = {
            api_row_key(group_by, row["keys"]): [row["minutes"], row["entries"], hundredths(row["billable_minutes"])]
            for row in body["rows"]
        }
        context = f"query {index} as {viewer}: group_by={group_by} filters={filters}"
        assert got == expected_rows, context
        totals = body["totals"]
        assert [totals["minutes"], totals["entries"], hundredths(totals["billable_minutes"])] == expected_totals, (
            context
        )
        for row in [*body["rows"], totals]:
            assert Decimal(str(row["billable_minutes"])) + Decimal(str(row["non_billable_minutes"])) == row["minutes"]
        nonempty += bool(expected_rows)
    # The random queries must exercise real data, not only empty results.
    assert nonempty >= 20


async def test_week_53_and_the_year_turn_group_as_iso_weeks(client: AsyncTestClient[Litestar], data: Dataset) -> None:
    params = {"first_day": "2026-12-28", "last_day": "2027-01-04", "group_by": "week,day"}
    body = (await client.get("/api/reports/time", params=params, headers=data.headers("boss"))).json()
    weeks = {row["keys"]["day"]: row["keys"]["week"] for row in body["rows"]}
    assert weeks.get("2027-01-01", "2026-W53") == "2026-W53"
    assert {week for day, week in weeks.items() if day <= "2027-01-03"} <= {"2026-W53"}
    assert {week for day, week in weeks.items() if day == "2027-01-04"} <= {"2027-W01"}
    assert weeks, "the data set has entries in the last days of 2026"


async def test_time_report_refuses_bad_input_with_problem_details(
    client: AsyncTestClient[Litestar], data: Dataset
) -> None:
    headers = data.headers("boss")
    # Malformed parameters are 400s (Litestar's validation); well-formed ones that make no sense are 422s.
    for params, status, detail in (
        ({"first_day": "2026-11-01", "last_day": "2026-11-30", "group_by": "user,planet"}, 422, "group_by"),
        ({"first_day": "2026-11-01", "last_day": "2026-11-30", "group_by": "user,user"}, 422, "twice"),
        ({"first_day": "2026-11-30", "last_day": "2026-11-01"}, 422, "before"),
        ({"first_day": "2020-01-01", "last_day": "2026-11-01"}, 422, "at most"),
        ({"last_day": "2026-11-01"}, 400, "first_day"),
        ({"first_day": "2026-11-01", "last_day": "30.11.2026"}, 400, "last_day"),
    ):
        response = await client.get("/api/reports/time", params=params, headers=headers)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert detail in response.text
    anonymous = await client.get("/api/reports/time", params={"first_day": "2026-11-01", "last_day": "2026-11-30"})
    assert anonymous.status_code == 401


async def test_project_progress_against_the_estimation(client: AsyncTestClient[Litestar], data: Dataset) -> None:
    for viewer in ("boss", "lead_red"):
        seen = data.visible_user_ids(viewer)
        for project_id, project in data.projects.items():
            response = await client.get(f"/api/reports/projects/{project_id}/progress", headers=data.headers(viewer))
            if response.status_code == 404:
                assert viewer != "boss"
                continue
            body = response.json()
            rows = [r for r in data.entries if r.project_id == project_id and not r.deleted and r.user_id in seen]
            booked = sum(r.duration for r in rows)
            assert body["booked_minutes"] == booked
            assert body["estimation_minutes"] == project.estimation_minutes
            assert body["offer"] == project.offer
            if project.estimation_minutes:
                assert body["share_used"] == round(booked / project.estimation_minutes, 4)
                assert body["remaining_minutes"] == project.estimation_minutes - booked
            else:
                assert body["share_used"] is None
            by_activity: dict[int, int] = {}
            by_month: dict[str, int] = {}
            for r in rows:
                by_activity[r.activity_id] = by_activity.get(r.activity_id, 0) + r.duration
                by_month[r.day.strftime("%Y-%m")] = by_month.get(r.day.strftime("%Y-%m"), 0) + r.duration
            assert {a["activity_id"]: a["minutes"] for a in body["by_activity"]} == by_activity
            assert [(m["month"], m["minutes"]) for m in body["by_month"]] == sorted(by_month.items())
            assert sum(c["minutes"] for c in body["cells"]) == booked


async def test_timesheet_follows_changing_contracts_holidays_and_carries_the_balance(
    client: AsyncTestClient[Litestar], data: Dataset
) -> None:
    ann = data.user("ann")
    for month, first, last in (
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2027-01", date(2027, 1, 1), date(2027, 1, 31)),
    ):
        response = await client.get(
            f"/api/reports/users/{ann.id}/timesheet", params={"month": month}, headers=data.headers("ann")
        )
        assert response.status_code == 200, response.text
        body = response.json()
        before, days = fold_timesheet(data, ann.id, first, last)
        assert body["balance_before_minutes"] == before
        got = [(d["target_minutes"], d["booked_minutes"], d["running_balance_minutes"]) for d in body["days"]]
        assert got == days
        assert body["balance_after_minutes"] == days[-1][2]
        assert body["target_minutes"] == sum(d[0] for d in days)
        holidays = {d["day"]: d["holiday"] for d in body["days"] if d["holiday"]}
        assert holidays == {day.isoformat(): name for day, name in data.holidays.items() if first <= day <= last}
        assert all(d["target_minutes"] == 0 for d in body["days"] if d["holiday"])

    # A user with no contract has no target; a DEV cannot read a colleague's sheet; a PL can read their team's.
    eve = data.user("eve")
    body = (
        await client.get(f"/api/reports/users/{eve.id}/timesheet?month=2026-11", headers=data.headers("eve"))
    ).json()
    assert body["target_minutes"] == 0
    assert body["balance_before_minutes"] == 0
    assert (
        await client.get(f"/api/reports/users/{ann.id}/timesheet?month=2026-11", headers=data.headers("eve"))
    ).status_code == 404
    assert (
        await client.get(f"/api/reports/users/{ann.id}/timesheet?month=2026-11", headers=data.headers("lead_blue"))
    ).status_code == 200
    # Month 13 is refused by the parameter's declared pattern, like any other malformed month.
    bad = await client.get(f"/api/reports/users/{ann.id}/timesheet?month=2026-13", headers=data.headers("ann"))
    assert bad.status_code == 400
    assert "month" in bad.text
    malformed = await client.get(f"/api/reports/users/{ann.id}/timesheet?month=12.2026", headers=data.headers("ann"))
    assert malformed.status_code == 400


async def test_sync_report_counts_states_per_user_and_system(client: AsyncTestClient[Litestar], data: Dataset) -> None:
    for viewer in ("boss", "lead_red", "ann"):
        response = await client.get("/api/reports/sync", headers=data.headers(viewer))
        assert response.status_code == 200, response.text
        seen = data.visible_user_ids(viewer)
        expected: dict[int, dict[str, Any]] = {}
        for r in data.entries:
            if r.deleted or r.sync_state is None or r.user_id not in seen:
                continue
            counts = expected.setdefault(r.user_id, {s.value: 0 for s in SyncState} | {"oldest": None})
            counts[r.sync_state.value] += 1
            if r.sync_state is SyncState.PENDING:
                counts["oldest"] = min(counts["oldest"] or r.updated_at, r.updated_at)
        got = {row["user_id"]: row for row in response.json()}
        assert set(got) == set(expected)
        for user_id, counts in expected.items():
            row = got[user_id]
            assert row["ticket_system"] == "Tracker"
            for state in ("pending", "synced", "failed", "conflict"):
                assert row[state] == counts[state], (viewer, user_id, state)
            if counts["oldest"] is None:
                assert row["oldest_pending_at"] is None
            else:
                oldest = datetime.fromisoformat(row["oldest_pending_at"])
                assert abs((oldest - counts["oldest"]).total_seconds()) < 1
                assert row["oldest_pending_age_seconds"] > 0
    ann = data.user("ann")
    only = (await client.get("/api/reports/sync", params={"user_id": ann.id}, headers=data.headers("boss"))).json()
    assert {row["user_id"] for row in only} == {ann.id}


async def test_csv_export_matches_the_report(client: AsyncTestClient[Litestar], data: Dataset) -> None:
    params = {"first_day": "2026-10-01", "last_day": "2026-12-31", "group_by": "user,day", "team_id": 1}
    headers = data.headers("lead_red")
    report = (await client.get("/api/reports/time", params=params, headers=headers)).json()
    response = await client.get("/api/reports/time.csv", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="time-report_2026-10-01_2026-12-31_team-1.csv"' in response.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines[0] == ["user id", "user", "day", "hours", "entries", "billable hours", "non-billable hours"]
    assert len(lines) - 1 == len(report["rows"])
    for line, row in zip(lines[1:], report["rows"], strict=True):
        assert int(line[0]) == row["keys"]["user"]["id"]
        assert line[2] == row["keys"]["day"]
        assert Decimal(line[3]) == (Decimal(row["minutes"]) / 60).quantize(Decimal("0.01"))
        assert int(line[4]) == row["entries"]


async def test_xlsx_export_has_typed_cells_a_total_row_and_the_filter(
    client: AsyncTestClient[Litestar], data: Dataset
) -> None:
    params = {"first_day": "2026-09-01", "last_day": "2027-01-31", "group_by": "project,day"}
    headers = data.headers("boss")
    report = (await client.get("/api/reports/time", params=params, headers=headers)).json()
    response = await client.get("/api/reports/time.xlsx", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert "spreadsheetml" in response.headers["content-type"]
    assert 'filename="time-report_2026-09-01_2027-01-31.xlsx"' in response.headers["content-disposition"]

    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Time report", "Filter"]
    sheet = list(workbook["Time report"].iter_rows(values_only=True))
    header, *rows, total = sheet
    assert header == ("project id", "project", "day", "hours", "entries", "billable hours", "non-billable hours")
    assert len(rows) == len(report["rows"])
    for values, row in zip(rows, report["rows"], strict=True):
        project_id, _name, day, hours, entries, billable, _non_billable = values
        assert project_id == row["keys"]["project"]["id"]
        assert isinstance(day, datetime)
        assert day.date().isoformat() == row["keys"]["day"]
        assert hours == round(row["minutes"] / 60, 2)
        assert entries == row["entries"]
        assert billable == float((Decimal(str(row["billable_minutes"])) / 60).quantize(Decimal("0.01")))
    # XLSX has one number type; what makes a cell a date or hours is its number format.
    first = next(workbook["Time report"].iter_rows(min_row=2, max_row=2))
    assert [cell.data_type for cell in first] == ["n", "s", "d", "n", "n", "n", "n"]
    assert first[2].is_date
    assert [cell.number_format for cell in first[3:]] == ["0.00", "General", "0.00", "0.00"]
    totals = report["totals"]
    assert total[0] == "Total"
    assert total[3] == round(totals["minutes"] / 60, 2)
    assert total[4] == totals["entries"] == sum(1 for _ in matching(data, "boss", params))
    assert dict(workbook["Filter"].iter_rows(values_only=True)) == {
        "group_by": "project, day",
        "first_day": datetime(2026, 9, 1),
        "last_day": datetime(2027, 1, 31),
    }


async def test_timesheet_exports(client: AsyncTestClient[Litestar], data: Dataset) -> None:
    ann = data.user("ann")
    headers = data.headers("ann")
    sheet = (await client.get(f"/api/reports/users/{ann.id}/timesheet?month=2026-12", headers=headers)).json()
    response = await client.get(f"/api/reports/users/{ann.id}/timesheet.xlsx?month=2026-12", headers=headers)
    assert response.status_code == 200
    assert 'filename="timesheet_ann_2026-12.xlsx"' in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Timesheet", "Filter"]
    header, *days, total = list(workbook["Timesheet"].iter_rows(values_only=True))
    assert header[0] == "day"
    assert len(days) == 31
    assert days[24][2] == "Christmas"
    assert days[24][3] == 0
    assert total[4] == round(sheet["booked_minutes"] / 60, 2)
    assert total[6] == round(sheet["balance_after_minutes"] / 60, 2)

    text = (await client.get(f"/api/reports/users/{ann.id}/timesheet.csv?month=2026-12", headers=headers)).text
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[1][0] == "2026-12-01"
    assert len(lines) == 32
    assert [Decimal(line[4]) for line in lines[1:]] == [
        (Decimal(d["booked_minutes"]) / 60).quantize(Decimal("0.01")) for d in sheet["days"]
    ]


async def test_exports_refuse_bad_input_before_streaming(client: AsyncTestClient[Litestar], data: Dataset) -> None:
    response = await client.get(
        "/api/reports/time.xlsx",
        params={"first_day": "2026-11-30", "last_day": "2026-11-01"},
        headers=data.headers("boss"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_dev_sees_only_their_own_time_even_when_filtering_for_others(
    client: AsyncTestClient[Litestar], data: Dataset
) -> None:
    bob = data.user("bob")
    params = {"first_day": FIRST_DAY.isoformat(), "last_day": LAST_DAY.isoformat(), "user_id": bob.id}
    body = (await client.get("/api/reports/time", params=params, headers=data.headers("ann"))).json()
    assert body["totals"]["entries"] == 0
    own = (await client.get("/api/reports/time", params=params, headers=data.headers("bob"))).json()
    assert own["totals"]["entries"] == sum(1 for r in data.entries if r.user_id == bob.id and not r.deleted)
