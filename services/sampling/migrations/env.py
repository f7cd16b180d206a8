from services.sampling.models import SamplingBase
from shared.migrations import run_env

run_env(SamplingBase.metadata)
