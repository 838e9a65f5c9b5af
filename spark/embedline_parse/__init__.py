"""The Spark parse job's Python side: the parse rules (rules.py), the Arrow
batch transform the job maps over Kafka rows (arrow_transform.py), the
progress publisher (progress.py) and the job itself (job.py)."""
