"""A log whose positions pass 2^32, as an EventStoreDB log does past 4 GiB (its
positions are byte offsets): the projections, the example consumer and the GraphQL
API keep and serve such positions exactly; and read-model tables an earlier release
made with 32-bit position columns on PostgreSQL are widened in place, rows kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Integer, MetaData, create_engine, insert, select, text

from adapters.neural import tables as neural_tables
from adapters.neural.consumer import ExampleConsumer
from adapters.settings import Settings
from application.bootstrap import bootstrap, read_side
from projections import catalog
from projections.database import read_model_engine
from tests.conftest import postgres_read_model_url, postgres_settings
from tests.integration.helpers import create_task, finish_task, spawn
from tests.support.far_log import FAR, move_log_past
from tests.support.server import embedded_settings, running_api


@pytest.fixture(params=["sqlite", "postgres"])
def far_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of an event store and read models on one dialect, the log moved past FAR."""
    if request.param == "sqlite":
        settings = embedded_settings(tmp_path)
    else:
        schema = request.getfixturevalue("postgres_schema")
        settings = postgres_settings(schema).model_copy(
            update={
                "read_model_url": postgres_read_model_url(schema),
                "neural_model_dir": tmp_path / "models",
            }
        )
    move_log_past(settings, FAR)
    return settings


def test_projections_and_the_example_consumer_keep_positions_past_32_bits(
    far_settings: Settings,
) -> None:
    app = bootstrap(far_settings)
    agent = spawn(app, "second")
    task = create_task(app)
    finish_task(app, task, agent)
    head = app.store.head()
    assert head > FAR

    runner = read_side(app)
    runner.catch_up()
    assert {row["checkpoint"] for row in runner.status()} == {head}
    assert runner.checkpoint("agents") == head

    consumer = ExampleConsumer(app.store, read_model_engine(far_settings.read_model_url))
    consumer.setup()
    consumer.catch_up()
    assert consumer.checkpoint() == head
    (example,) = consumer.examples()
    assert example.position > FAR
    app.close()


def test_the_api_serves_positions_past_32_bits(far_settings: Settings) -> None:
    with running_api(far_settings) as api:
        spawned = api.graphql(
            'mutation { spawnAgent(name: "second", agentType: "coder", capabilities: ["py"]) '
            "{ position errors { code } } }"
        )["data"]["spawnAgent"]
        assert spawned["errors"] == []
        assert spawned["position"] > FAR
        position = spawned["position"]

        read = api.graphql(
            "query($at: Position) { agents(atLeast: $at) { nodes { name } } }",
            {"at": position},
        )
        assert {n["name"] for n in read["data"]["agents"]["nodes"]} == {"first", "second"}

        log = api.graphql(
            "query($after: Position) { eventLog(after: $after) { nodes { position type } "
            "pageInfo { endPosition } } }",
            {"after": str(FAR)},  # as a string of digits, as a JavaScript client may send it
        )["data"]["eventLog"]
        assert "Agent.Spawned" in [n["type"] for n in log["nodes"]]
        assert all(n["position"] > FAR for n in log["nodes"])
        assert log["nodes"][-1]["position"] == log["pageInfo"]["endPosition"] == position

        status = api.graphql("{ projectionStatus { name position head } }")
        rows = status["data"]["projectionStatus"]
        assert rows
        assert all(row["head"] == position for row in rows)
        assert any(row["position"] == position for row in rows)


@pytest.mark.parametrize(
    "value", ["2" * 20, str(2**63), -(2**63) - 1, "twelve", "1.5", True, 1.5, [1]]
)
def test_a_position_that_is_not_a_64_bit_integer_is_refused_and_changes_nothing(
    tmp_path: Path, value: object
) -> None:
    with running_api(embedded_settings(tmp_path)) as api:
        body = api.graphql(
            "query($at: Position) { agents(atLeast: $at) { nodes { name } } }", {"at": value}
        )
        assert body.get("data") is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"]


def thirty_two_bit(metadata: MetaData) -> MetaData:
    """``metadata`` as an earlier release declared it: positions as INTEGER."""
    old = MetaData()
    for table in metadata.sorted_tables:
        copy = table.to_metadata(old)
        for column in copy.columns:
            if isinstance(column.type, BigInteger):
                column.type = Integer()
    return old


@pytest.mark.postgres
def test_tables_made_with_32_bit_positions_are_widened_in_place(
    postgres_schema: str, tmp_path: Path
) -> None:
    url = postgres_read_model_url(postgres_schema)
    old = create_engine(url)
    thirty_two_bit(catalog.metadata).create_all(old)
    thirty_two_bit(neural_tables.metadata).create_all(old)
    with old.begin() as conn:
        conn.execute(insert(neural_tables.checkpoints).values(name="examples", position=7))

    settings = postgres_settings(postgres_schema).model_copy(update={"read_model_url": url})
    app = bootstrap(settings)
    spawn(app, "ada")
    runner = read_side(app)  # sets up: creates what is missing, widens what is narrow
    consumer = ExampleConsumer(app.store, read_model_engine(url))
    consumer.setup()

    with old.connect() as conn:
        types = dict(
            conn.execute(
                text(
                    "SELECT table_name || '.' || column_name, data_type FROM "
                    "information_schema.columns WHERE table_schema = :schema AND "
                    "table_name IN ('projection_status', 'projection_dead_letters', "
                    "'neural_checkpoints', 'neural_examples') AND "
                    "column_name IN ('checkpoint', 'building_checkpoint', 'position')"
                ),
                {"schema": postgres_schema},
            ).all()
        )
        kept = conn.execute(
            select(neural_tables.checkpoints.c.position).where(
                neural_tables.checkpoints.c.name == "examples"
            )
        ).scalar()
    assert types == {
        "projection_status.checkpoint": "bigint",
        "projection_status.building_checkpoint": "bigint",
        "projection_dead_letters.position": "bigint",
        "neural_checkpoints.position": "bigint",
        "neural_examples.position": "bigint",
    }
    assert kept == 7
    runner.catch_up()
    assert runner.checkpoint("agents") == app.store.head()
    app.close()
