from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class PublicationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PUBLICATION_", extra="ignore")

    service_name: str = "publication"
    port: int = 8004
