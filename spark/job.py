"""kafka_vectorizer: the Spark Structured Streaming parse job.

Reads raw messages from SPARK_KAFKA_TOPICS, applies the parse rules
(embedline_parse/rules.py, the same as lib/records in TypeScript), and writes
embedding_input records (keyed by doc_id) and parse DLQ records to Kafka;
optionally the parsed records to Parquet. Checkpoints make a restart resume
where the last finished micro-batch ended.

Normally started by spark/run.ts (`npm start -- --spark`), which validates the
configuration, creates the topics and the virtualenv; every option can also be
given by hand: `spark/.venv/bin/python spark/job.py --help`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_NAME = "kafka_vectorizer"
KAFKA_QUERY = "parse_to_kafka"
PARQUET_QUERY = "parse_to_parquet"


class JsonLines(logging.Formatter):
    """One JSON object per line, like the stack's pino logs."""

    LEVELS = {"DEBUG": 20, "INFO": 30, "WARNING": 40, "ERROR": 50, "CRITICAL": 60}

    def format(self, record: logging.LogRecord) -> str:
        line = {"level": self.LEVELS.get(record.levelname, 30), "time": int(record.created * 1000), "pid": os.getpid(), "name": "spark-job", "msg": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, separators=(",", ":"))


log = logging.getLogger("kafka_vectorizer")


def options(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap", default=env("KAFKA_BOOTSTRAP") or env("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092")
    p.add_argument("--topics", default=env("SPARK_KAFKA_TOPICS", "agent.results"), help="comma-separated input topics")
    p.add_argument("--sink-topic", default=env("SINK_INPUT_TOPIC", "embedding_input"))
    p.add_argument("--dlq-topic", default=env("PARSE_DLQ_TOPIC", "agent.results.dlq"))
    p.add_argument("--progress-topic", default=env("SPARK_PROGRESS_TOPIC", "spark.progress"))
    p.add_argument("--max-text-bytes", type=int, default=int(env("PARSE_MAX_TEXT_BYTES", "1000000")))
    # max.message.bytes of the sink and DLQ topics, as spark/run.ts reads them from the broker (pyspark has no
    # admin client). By hand they default to the broker's default (1 MiB + 12): give the real ones if the topics differ.
    p.add_argument("--sink-max-message-bytes", type=int, default=1_048_588)
    p.add_argument("--dlq-max-message-bytes", type=int, default=1_048_588)
    p.add_argument("--checkpoint-dir", default=env("SPARK_CHECKPOINT_DIR", str(Path(env("DATA_DIR", "./data")) / "spark" / "checkpoints")))
    p.add_argument("--parquet-dir", default=env("VEC_OUTPUT_DIR") or None)
    p.add_argument("--master", default=env("SPARK_MASTER", "local[2]"))
    p.add_argument("--ui-port", type=int, default=int(env("SPARK_UI_PORT", "4041")))
    p.add_argument("--driver-memory", default=env("SPARK_DRIVER_MEMORY", "1g"))
    p.add_argument("--trigger-sec", type=float, default=float(env("SPARK_TRIGGER_SEC", "1")))
    p.add_argument("--max-offsets-per-trigger", type=int, default=int(env("SPARK_MAX_OFFSETS_PER_TRIGGER", "20000")))
    p.add_argument("--log-level", default=env("LOG_LEVEL", "info"))
    return p.parse_args(argv)


def kafka_connector_package() -> str:
    """Maven coordinates of the Kafka connector matching this pyspark; Spark resolves and caches them (~/.ivy2.5.2)."""
    import pyspark

    return f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}"


def build_session(opts: argparse.Namespace):
    from pyspark.sql import SparkSession

    # Python workers import embedline_parse by reference (cloudpickle): they
    # inherit PYTHONPATH through the JVM this session starts.
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])])
    # Workers run this interpreter (the virtualenv's, with pyarrow), not whatever `python3` is on PATH.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = (
        SparkSession.builder.appName(APP_NAME)
        .master(opts.master)
        .config("spark.jars.packages", kafka_connector_package())
        .config("spark.pyspark.python", sys.executable)
        .config("spark.ui.port", str(opts.ui_port))
        # Fail rather than move the UI to 4042…: the console looks for it on its port.
        .config("spark.port.maxRetries", "0")
        .config("spark.driver.memory", opts.driver_memory)
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{HERE / 'log4j2.properties'}")
        .config("spark.ui.showConsoleProgress", "false")
        # No shuffles in this job; the default 200 would only matter if one appeared.
        .config("spark.sql.shuffle.partitions", "2")
        # Keep the UI's history small: a streaming job runs a few jobs per second for days.
        .config("spark.ui.retainedJobs", "200")
        .config("spark.ui.retainedStages", "200")
        .config("spark.sql.ui.retainedExecutions", "100")
        .config("spark.sql.streaming.ui.retainedQueries", "10")
        .config("spark.sql.streaming.ui.retainedProgressUpdates", "100")
    )
    return builder.getOrCreate()


def kafka_rows(spark, opts: argparse.Namespace):
    from pyspark.sql import functions as F

    source = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", opts.bootstrap)
        .option("subscribe", opts.topics)
        # First start: everything already on the topic (nothing produced before the job is lost). Later starts: the checkpoint.
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", str(opts.max_offsets_per_trigger))
        # Input written in transactions counts only once committed, as for the TypeScript worker.
        .option("kafka.isolation.level", "read_committed")
        # A DLQ record keeps the original message's headers.
        .option("includeHeaders", "true")
        .load()
    )
    return source.select("key", "value", "topic", "partition", "offset", F.unix_millis("timestamp").alias("ts_ms"), "headers")


def start_queries(spark, opts: argparse.Namespace):
    from embedline_parse.arrow_transform import KAFKA_SINK_DDL, PARQUET_DDL, to_kafka_rows, to_parquet_rows

    rows = kafka_rows(spark, opts)
    checkpoints = Path(opts.checkpoint_dir)

    def with_trigger(writer):
        # No trigger at all is Spark's default: the next micro-batch as soon as one ends.
        return writer.trigger(processingTime=f"{opts.trigger_sec} seconds") if opts.trigger_sec > 0 else writer

    to_kafka = (
        rows.mapInArrow(
            to_kafka_rows(opts.max_text_bytes, opts.sink_topic, opts.dlq_topic, sink_max_message_bytes=opts.sink_max_message_bytes, dlq_max_message_bytes=opts.dlq_max_message_bytes),
            KAFKA_SINK_DDL,
        )
        .writeStream.queryName(KAFKA_QUERY)
        .format("kafka")
        .option("kafka.bootstrap.servers", opts.bootstrap)
        # Same settings as the TS worker's producer: every replica, no reordering on retry.
        .option("kafka.acks", "all")
        .option("kafka.enable.idempotence", "true")
        # The Java client's defaults (16 KB batches, no linger) send a request per few
        # dozen records; bigger batches carry a micro-batch's output in far fewer round trips.
        .option("kafka.linger.ms", "10")
        # Never a batch over the smaller topic limit (the broker would refuse it), and a request
        # size that lets through every record the transform let through (the client's default is 1 MiB).
        .option("kafka.batch.size", str(min(512 * 1024, opts.sink_max_message_bytes, opts.dlq_max_message_bytes)))
        .option("kafka.max.request.size", str(max(1_048_576, opts.sink_max_message_bytes, opts.dlq_max_message_bytes)))
        .option("checkpointLocation", str(checkpoints / KAFKA_QUERY))
    )
    queries = [with_trigger(to_kafka).start()]
    if opts.parquet_dir:
        to_parquet = (
            rows.mapInArrow(to_parquet_rows(opts.max_text_bytes, opts.sink_max_message_bytes), PARQUET_DDL)
            .writeStream.queryName(PARQUET_QUERY)
            .format("parquet")
            .option("path", opts.parquet_dir)
            .option("checkpointLocation", str(checkpoints / PARQUET_QUERY))
        )
        queries.append(with_trigger(to_parquet).start())
    return queries


def main(argv: list[str]) -> int:
    opts = options(argv)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLines())
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if opts.log_level in ("debug", "trace") else logging.INFO)

    stop = threading.Event()
    parent = os.getppid()

    def on_signal(signum, _frame):
        log.info("stopping", extra={"fields": {"signal": signal.Signals(signum).name}})
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    started = time.monotonic()
    spark = build_session(opts)
    spark.sparkContext.setLogLevel("DEBUG" if opts.log_level == "trace" else "WARN")
    app_id = spark.sparkContext.applicationId

    from embedline_parse.progress import ProgressPublisher

    publisher = ProgressPublisher(opts.bootstrap, opts.progress_topic, APP_NAME, app_id)
    spark.streams.addListener(publisher)
    queries = start_queries(spark, opts)
    log.info(
        "spark job started",
        extra={"fields": {"app_id": app_id, "ui_port": opts.ui_port, "master": opts.master, "topics": opts.topics, "sink": opts.sink_topic, "dlq": opts.dlq_topic, "sink_max_message_bytes": opts.sink_max_message_bytes, "dlq_max_message_bytes": opts.dlq_max_message_bytes, "progress_topic": opts.progress_topic, "parquet": opts.parquet_dir, "startup_ms": round((time.monotonic() - started) * 1000)}},
    )

    code = 0
    while not stop.is_set():
        failed = [q for q in queries if not q.isActive]
        if failed:
            for q in failed:
                err = q.exception()
                log.error("query stopped", extra={"fields": {"query": q.name, "error": str(err).splitlines()[0] if err else None}})
            code = 1
            break
        if os.getppid() != parent:
            # Whoever started us (spark/run.ts) is gone; do not linger holding the UI port.
            log.warning("parent process exited; stopping")
            break
        stop.wait(1.0)

    for q in queries:
        try:
            # Stops between micro-batches' tasks; the checkpoint makes the next start resume.
            q.stop()
        except Exception as err:  # the JVM may already be going down with a signal
            log.warning("query stop failed", extra={"fields": {"query": q.name, "error": str(err).splitlines()[0]}})
    publisher.flush()
    try:
        spark.stop()
    except Exception as err:  # the JVM went first (killed, or its own shutdown hook ran)
        log.warning("spark stop failed", extra={"fields": {"error": str(err).splitlines()[0]}})
    log.info("stopped", extra={"fields": {"code": code}})
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
