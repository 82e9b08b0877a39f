"""The reference every endpoint's cold start is read against (`bench.cold_starts`): a REST API
function as the Powertools documentation's cookbook writes one — an `APIGatewayRestResolver` with
validation, Logger with the Lambda context, Metrics with the cold-start metric, one pydantic body
model — and nothing of ours (no database, no cache, no layer module)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

logger = Logger(service="cookbook")
metrics = Metrics(namespace="Cookbook", service="cookbook")
app = APIGatewayRestResolver(enable_validation=True)


class Todo(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    completed: bool = False


@app.get("/todos/<todo_id>")
def get_todo(todo_id: str) -> Todo:
    logger.info("reading a todo", extra={"todo_id": todo_id})
    return Todo(id=todo_id, title="Walk the dog")


@app.post("/todos")
def create_todo(todo: Todo) -> Todo:
    metrics.add_metric(name="TodosCreated", unit=MetricUnit.Count, value=1)
    return todo


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
