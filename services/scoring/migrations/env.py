from services.scoring.models import ScoringBase
from shared.migrations import run_env

run_env(ScoringBase.metadata)
