"""Publishes each streaming-query event of the job to a Kafka topic.

Spark's REST API covers Structured Streaming only partly (jobs and stages, no
query progress), so the job's listener writes every progress event, as Spark
itself reports it, to SPARK_PROGRESS_TOPIC. The console reads the newest
record; see spark/README.md for the payload.
"""

from __future__ import annotations

import json
import logging
import time

from confluent_kafka import Producer
from pyspark.sql.streaming import StreamingQueryListener

log = logging.getLogger("kafka_vectorizer.progress")


class ProgressPublisher(StreamingQueryListener):
    def __init__(self, bootstrap: str, topic: str, app_name: str, app_id: str):
        self._topic = topic
        self._app = {"app_name": app_name, "app_id": app_id}
        # Idle and terminated events carry only the query's id.
        self._names: dict[str, str | None] = {}
        # Progress is telemetry: one event lost in a broker outage is replaced
        # by the next, so a short delivery timeout keeps the listener thread from piling up.
        self._producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "message.timeout.ms": 10_000, "client.id": f"{app_name}-progress"})

    def _publish(self, event: str, query_name: str | None, body: dict) -> None:
        payload = {**self._app, "event": event, "query": query_name, "ts": round(time.time(), 3), **body}
        try:
            self._producer.produce(self._topic, key=(query_name or "").encode("utf-8"), value=json.dumps(payload, separators=(",", ":")).encode("utf-8"))
            self._producer.poll(0)
        except Exception as err:  # never let telemetry fail the query
            log.warning("progress event not published: %s", err)

    def onQueryStarted(self, event):
        self._names[str(event.id)] = event.name
        self._publish("started", event.name, {"id": str(event.id), "run_id": str(event.runId)})

    def onQueryProgress(self, event):
        progress = json.loads(event.progress.json)
        self._publish("progress", progress.get("name"), {"progress": progress})

    def onQueryIdle(self, event):
        self._publish("idle", self._names.get(str(event.id)), {"id": str(event.id), "run_id": str(event.runId)})

    def onQueryTerminated(self, event):
        self._publish("terminated", self._names.get(str(event.id)), {"id": str(event.id), "run_id": str(event.runId), "exception": event.exception})
        self.flush()

    def flush(self, timeout_sec: float = 5.0) -> None:
        self._producer.flush(timeout_sec)
