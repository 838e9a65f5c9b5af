import sys
from pathlib import Path

# The job's package lives in spark/; tests import it as the job does.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
