from services.registry.models import RegistryBase
from shared.migrations import run_env

run_env(RegistryBase.metadata)
