from services.registry.app import build_app, build_runtime
from services.registry.generator import cli as generator_cli
from services.registry.imports import cli as import_cli
from services.registry.replay import STREAMS
from services.registry.settings import RegistrySettings
from shared.cli import main_guard, run_service_cli
from shared.replay_cli import replay_command


def main() -> int:
    return run_service_cli(
        settings_cls=RegistrySettings,
        app_factory=build_app,  # type: ignore[arg-type]
        runtime_factory=build_runtime,  # type: ignore[arg-type]
        extra={
            "import": (
                "bulk import entities, records or inspectors (CSV / JSON Lines)",
                import_cli.configure,
                import_cli.run,
            ),
            "generate": (
                "write a synthetic Shanxi population (entities, records, inspectors, truth)",
                generator_cli.configure,
                generator_cli.run,
            ),
            "replay": replay_command(RegistrySettings, build_runtime, STREAMS),
        },
    )


if __name__ == "__main__":
    main_guard(main)
