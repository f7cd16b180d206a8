from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SamplingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLING_", extra="ignore")

    service_name: str = "sampling"
    port: int = 8003
