"""Resolve Spark's Kafka connector from its Maven coordinates into Spark's own
cache, once, at install time (scripts/install/spark.ts), so the job's first
start does not pay for it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pyspark.sql import SparkSession  # noqa: E402

from job import kafka_connector_package  # noqa: E402

spark = SparkSession.builder.master("local[1]").appName("kafka_vectorizer_install").config("spark.jars.packages", kafka_connector_package()).config("spark.ui.enabled", "false").getOrCreate()
spark.stop()
