from services.publication.models import PublicationBase
from shared.migrations import run_env

run_env(PublicationBase.metadata)
